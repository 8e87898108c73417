import type { PowerMonitor } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DesktopLockReason } from '../../shared/desktop-api';
import { PowerMonitorDouble } from '../../test/support/electron-double';
import { SCREEN_POLL_MS, watchPowerLock, type PowerLockOptions, type PowerMonitorLike } from './power-lock';

// Electron's powerMonitor fits the narrow shape (checked by tsc).
export const electronFits = (p: PowerMonitor): PowerMonitorLike => p;

/** A powerMonitor double watched by watchPowerLock, and the locks it reported. */
function watched(options?: PowerLockOptions) {
  const power = new PowerMonitorDouble();
  const locks: DesktopLockReason[] = [];
  const dispose = watchPowerLock(power, (r) => locks.push(r), options);
  return { power, locks, dispose };
}

describe('watchPowerLock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("locks on 'lock-screen' and 'suspend', each time, and on nothing else", () => {
    const { power, locks } = watched({ pollMs: 0 });
    power.emit('lock-screen');
    power.emit('suspend');
    for (const other of ['unlock-screen', 'resume', 'on-ac', 'on-battery', 'shutdown', 'user-did-resign-active']) power.emit(other);
    power.emit('lock-screen');
    power.emit('suspend');
    expect(locks).toEqual(['lock-screen', 'suspend', 'lock-screen', 'suspend']);
  });

  it('a screen lock is reported once until the screen is unlocked', () => {
    const { power, locks } = watched({ pollMs: 0 });
    power.emit('lock-screen');
    power.emit('lock-screen');
    expect(locks).toEqual(['lock-screen']);
    power.emit('unlock-screen');
    power.emit('lock-screen');
    expect(locks).toEqual(['lock-screen', 'lock-screen']);
  });

  it("polls the screen's lock where Electron emits no 'lock-screen' (Linux): locks when it turns locked, once", () => {
    const { power, locks } = watched();
    vi.advanceTimersByTime(SCREEN_POLL_MS * 2);
    expect(power.idleStateCalls).toBe(2);
    expect(locks).toEqual([]);
    power.idleState = 'locked';
    vi.advanceTimersByTime(SCREEN_POLL_MS * 3);
    expect(locks).toEqual(['lock-screen']);
    // Unlocked (active, or idle at the desktop), then locked again: a second lock.
    power.idleState = 'idle';
    vi.advanceTimersByTime(SCREEN_POLL_MS);
    power.idleState = 'locked';
    vi.advanceTimersByTime(SCREEN_POLL_MS);
    expect(locks).toEqual(['lock-screen', 'lock-screen']);
  });

  it("the event and the poll together lock once; 'unknown' (no answer) changes nothing", () => {
    const { power, locks } = watched();
    power.emit('lock-screen');
    power.idleState = 'locked';
    vi.advanceTimersByTime(SCREEN_POLL_MS * 2);
    power.idleState = 'unknown';
    vi.advanceTimersByTime(SCREEN_POLL_MS * 2);
    expect(locks).toEqual(['lock-screen']);
  });

  it('the disposer stops the poll and removes its listeners', () => {
    const { power, locks, dispose } = watched();
    expect(power.listenerCount('lock-screen')).toBe(1);
    expect(power.listenerCount('suspend')).toBe(1);
    dispose();
    power.emit('lock-screen');
    power.emit('suspend');
    power.idleState = 'locked';
    vi.advanceTimersByTime(SCREEN_POLL_MS * 3);
    expect(power.idleStateCalls).toBe(0);
    expect(locks).toEqual([]);
    expect(power.eventNames()).toEqual([]);
  });

  it('leaves other listeners on powerMonitor alone', () => {
    const power = new PowerMonitorDouble();
    let others = 0;
    power.on('suspend', () => others++);
    watchPowerLock(power, () => undefined)();
    power.emit('suspend');
    expect(others).toBe(1);
  });
});
