import { BehaviorSubject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { INITIAL_STATUS } from '../core/sync/sync-status';
import type { SyncStatus } from '../../shared/api/sync';
import type { DesktopSyncState } from '../../shared/desktop-api';
import { TRAY_STATE_LABELS, TRAY_TOOLTIPS, trayStateOf, trayStates } from './tray-state';

/** A configured, idle, empty status: up to date. */
const idle: SyncStatus = {
  ...INITIAL_STATUS,
  configured: true,
  state: 'idle',
  remote: 'https://couch.clinic.example/flint',
  message: 'Up to date with the clinic server.',
};
const status = (patch: Partial<SyncStatus>): SyncStatus => ({ ...idle, ...patch });

const ALL_STATES: DesktopSyncState[] = ['not-configured', 'up-to-date', 'syncing', 'offline', 'paused', 'error', 'conflicts'];

describe('trayStateOf', () => {
  it('not configured: the core’s initial status, whatever else it says', () => {
    expect(trayStateOf(INITIAL_STATUS)).toBe('not-configured');
    expect(trayStateOf({ ...INITIAL_STATUS, state: 'error', conflicts: 3, pending: 5 })).toBe('not-configured');
  });

  it('up to date: idle with nothing pending and no pull running', () => {
    expect(trayStateOf(idle)).toBe('up-to-date');
    // Audit events still to go and quarantined documents do not make it "syncing".
    expect(trayStateOf(status({ auditPending: 4, quarantined: 2, sent: 10, received: 7 }))).toBe('up-to-date');
  });

  it('syncing: active or connecting, a catch-up pull, or pending changes while online', () => {
    expect(trayStateOf(status({ state: 'active' }))).toBe('syncing');
    expect(trayStateOf(status({ state: 'connecting' }))).toBe('syncing');
    expect(trayStateOf(status({ pull: { received: 1200, total: 90_000 } }))).toBe('syncing');
    expect(trayStateOf(status({ pull: { received: 0 } }))).toBe('syncing');
    expect(trayStateOf(status({ pending: 1 }))).toBe('syncing');
  });

  it('offline, and pending changes or a stalled pull do not make it syncing', () => {
    expect(trayStateOf(status({ state: 'offline' }))).toBe('offline');
    expect(trayStateOf(status({ state: 'offline', pending: 12, pull: { received: 5 } }))).toBe('offline');
  });

  it('paused and error', () => {
    expect(trayStateOf(status({ state: 'paused' }))).toBe('paused');
    expect(trayStateOf(status({ state: 'error', lastError: 'refused' }))).toBe('error');
  });

  it('conflicts when there are any: they win over idle, syncing and offline', () => {
    expect(trayStateOf(status({ conflicts: 1 }))).toBe('conflicts');
    expect(trayStateOf(status({ conflicts: 2, state: 'active' }))).toBe('conflicts');
    expect(trayStateOf(status({ conflicts: 2, pending: 3, pull: { received: 1 } }))).toBe('conflicts');
    expect(trayStateOf(status({ conflicts: 2, state: 'offline' }))).toBe('conflicts');
  });

  it('precedence: not-configured > paused > error > conflicts > offline > syncing > up-to-date', () => {
    expect(trayStateOf(status({ state: 'paused', conflicts: 4, pending: 2 }))).toBe('paused');
    expect(trayStateOf(status({ state: 'error', conflicts: 4, pending: 2 }))).toBe('error');
    expect(trayStateOf(status({ configured: false, state: 'paused' }))).toBe('not-configured');
  });
});

describe('tooltips and state labels', () => {
  it('one plain sentence per state, every one different', () => {
    for (const table of [TRAY_TOOLTIPS, TRAY_STATE_LABELS]) {
      expect(Object.keys(table).sort()).toEqual([...ALL_STATES].sort());
      expect(new Set(Object.values(table)).size).toBe(ALL_STATES.length);
    }
    for (const state of ALL_STATES) expect(TRAY_TOOLTIPS[state]).toMatch(/^Flint: [a-z]/);
    // Windows cuts tray tooltips at 127 characters.
    for (const text of Object.values(TRAY_TOOLTIPS)) expect(text.length).toBeLessThan(128);
  });
});

describe('trayStates', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const statuses = {
    u: idle,
    s: status({ state: 'active' }),
    p: status({ pending: 3 }), // also syncing
    o: status({ state: 'offline' }),
    c: status({ conflicts: 1 }),
    n: INITIAL_STATUS,
  };
  const states: Record<string, DesktopSyncState> = { U: 'up-to-date', S: 'syncing', O: 'offline', C: 'conflicts', N: 'not-configured' };

  it('the first state at once, then each change after it has held for the settle time', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('u 99ms s 199ms o|', statuses);
      // u at 0; s at 100 shown at 150; o at 300 completes at 301 and is flushed then.
      expectObservable(trayStates(source, { settleMs: 50, scheduler: ts })).toBe('U 149ms S 150ms (O|)', states);
    });
  });

  it('a state that comes and goes within the settle time is never shown', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const source = hot('u 99ms s 9ms u 9ms s 9ms u 499ms c', statuses);
      expectObservable(trayStates(source, { settleMs: 50, scheduler: ts }), '^ 1000ms !').toBe('U 679ms C', states);
    });
  });

  it('statuses that differ but map to the same state emit nothing new', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('s 99ms p 99ms s 99ms n', statuses);
      expectObservable(trayStates(source, { settleMs: 50, scheduler: ts })).toBe('S 349ms N', states);
    });
  });

  it('flapping back to the shown state within the settle time emits nothing', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('u 99ms o 19ms u 199ms |', statuses);
      expectObservable(trayStates(source, { settleMs: 50, scheduler: ts })).toBe('U 319ms |', states);
    });
  });

  it('the first state of a BehaviorSubject arrives synchronously, by default settings too', () => {
    const subject = new BehaviorSubject<SyncStatus>(status({ state: 'offline' }));
    const seen: DesktopSyncState[] = [];
    const sub = (trayStates(subject) as Observable<DesktopSyncState>).subscribe((s) => seen.push(s));
    expect(seen).toEqual(['offline']);
    sub.unsubscribe();
  });
});
