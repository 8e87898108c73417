import { describe, expect, it } from 'vitest';
import type { SyncStatus } from '../../shared/api/sync';
import { announcement, badgeOf, duplicateSentence, pullProgress, recordPath, timeAgo, versionParts } from './sync-text';

const status = (over: Partial<SyncStatus>): SyncStatus => ({
  configured: true,
  state: 'idle',
  pending: 0,
  auditPending: 0,
  sent: 0,
  received: 0,
  quarantined: 0,
  conflicts: 0,
  message: '',
  ...over,
});

describe('timeAgo', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('reads like a person would say it', () => {
    expect(timeAgo(undefined, now)).toBe('never');
    expect(timeAgo('garbage', now)).toBe('unknown');
    expect(timeAgo(ago(10_000), now)).toBe('just now');
    expect(timeAgo(ago(-5_000), now)).toBe('just now'); // a clock a little ahead
    expect(timeAgo(ago(60_000), now)).toBe('1 min ago');
    expect(timeAgo(ago(2 * 60_000 + 10_000), now)).toBe('2 min ago');
    expect(timeAgo(ago(59 * 60_000), now)).toBe('59 min ago');
    expect(timeAgo(ago(3 * 3_600_000 + 1), now)).toBe('3 h ago');
    expect(timeAgo(ago(30 * 3_600_000), now)).toBe('yesterday');
    expect(timeAgo(ago(4 * 86_400_000), now)).toBe('4 days ago');
    expect(timeAgo(ago(30 * 86_400_000), now)).toMatch(/2026/);
  });
});

describe('badgeOf', () => {
  it('maps the engine states to the badge', () => {
    expect(badgeOf(undefined)).toBeUndefined();
    expect(badgeOf(status({ configured: false, state: 'offline' }))?.state).toBe('not-set-up');
    expect(badgeOf(status({ state: 'idle' }))?.label).toBe('Up to date');
    expect(badgeOf(status({ state: 'idle', pending: 3 }))?.state).toBe('syncing');
    expect(badgeOf(status({ state: 'active' }))?.state).toBe('syncing');
    expect(badgeOf(status({ state: 'connecting' }))?.state).toBe('syncing');
    expect(badgeOf(status({ state: 'offline' }))?.state).toBe('offline');
    expect(badgeOf(status({ state: 'paused' }))?.state).toBe('paused');
    expect(badgeOf(status({ state: 'error' }))?.tone).toBe('error');
  });

  it('announces the state and conflicts in a sentence', () => {
    expect(announcement(status({ state: 'idle' }))).toBe('Sync: up to date.');
    expect(announcement(status({ state: 'paused', conflicts: 2 }))).toBe('Sync: paused. 2 conflicts to review.');
    expect(announcement(status({ state: 'error', conflicts: 1 }))).toBe('Sync: problem. 1 conflict to review.');
  });
});

describe('conflict wording and links', () => {
  it('describes a duplicate with its identifier and the other records', () => {
    const s = duplicateSentence({ type: 'Patient', id: 'a', kind: 'duplicate', current: '1.x', versions: ['1.x'], duplicates: ['Patient/b'], identifier: { system: 'urn:oid:1', value: '123' } });
    expect(s).toBe('Possible duplicate patient: same identifier 123 (urn:oid:1) as Patient/b');
  });

  it('opens patients in their record and other types in the resource view', () => {
    expect(recordPath('Patient/p 1')).toBe('/patients/p%201');
    expect(recordPath('Observation/o')).toBe('/r/Observation/o');
  });

  it('splits a version id into its number and workstation', () => {
    expect(versionParts('3.ab12cd')).toEqual({ n: '3', workstation: 'ab12cd' });
    expect(versionParts('3')).toEqual({ n: '3' });
  });
});

describe('pullProgress', () => {
  it('reads the catch-up progress when there is one', () => {
    expect(pullProgress(status({}))).toBeUndefined();
    expect(pullProgress({ ...status({}), pull: { received: 250, total: 1000 } } as SyncStatus)).toEqual({ received: 250, total: 1000, percent: 25 });
    expect(pullProgress({ ...status({}), pull: { received: 1200, total: 1000 } } as SyncStatus)).toEqual({ received: 1200, total: 1200, percent: 100 });
    expect(pullProgress({ ...status({}), pull: { received: 7 } } as SyncStatus)).toEqual({ received: 7 });
  });
});
