import { describe, expect, it } from 'vitest';
import { backoffDelay, combinedStatus, type Leg } from './sync-legs';
import { MESSAGES } from './sync-status';

const leg = (name: Leg['name'], state: Leg['state'], message?: string): Leg => ({ name, state, message, attempt: 0, stop: async () => undefined });
const at = () => new Date('2026-12-07T10:00:00Z');

describe('combinedStatus', () => {
  it('is idle, up to date and clears the last error only when every leg is idle', () => {
    expect(combinedStatus([leg('pull', 'idle'), leg('push', 'idle')], () => 'busy', at)).toEqual({ state: 'idle', message: MESSAGES.idle, lastSync: '2026-12-07T10:00:00.000Z', lastError: undefined });
    expect(combinedStatus([leg('pull', 'idle'), leg('push', 'active')], () => 'Receiving 10 of 20', at)).toEqual({ state: 'active', message: 'Receiving 10 of 20' });
  });

  it('lets the worst leg speak: error over offline over connecting over active', () => {
    const legs = [leg('pull', 'active'), leg('push', 'connecting'), leg('audit', 'offline', MESSAGES.offline)];
    expect(combinedStatus(legs, () => 'busy')).toEqual({ state: 'offline', message: MESSAGES.offline, lastError: MESSAGES.offline });
    legs[0] = leg('pull', 'error', MESSAGES.denied);
    expect(combinedStatus(legs, () => 'busy')).toEqual({ state: 'error', message: MESSAGES.denied, lastError: MESSAGES.denied });
    expect(combinedStatus([leg('pull', 'active'), leg('push', 'connecting')], () => 'busy')).toEqual({ state: 'connecting', message: MESSAGES.connecting });
  });

  it('says the server cannot be reached when a failed leg has no words of its own', () => {
    expect(combinedStatus([leg('pull', 'offline')], () => 'busy')).toMatchObject({ message: MESSAGES.offline });
  });
});

describe('backoffDelay', () => {
  it('grows as 1 s * 2^attempt up to the maximum, with full jitter and a 250 ms floor', () => {
    expect(backoffDelay(0, 60_000, () => 0.999)).toBe(999);
    expect(backoffDelay(3, 60_000, () => 0.5)).toBe(4000);
    expect(backoffDelay(30, 60_000, () => 0.5)).toBe(30_000);
    expect(backoffDelay(5, 60_000, () => 0)).toBe(250);
  });
});
