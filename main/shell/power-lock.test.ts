import type { PowerMonitor } from 'electron';
import { describe, expect, it } from 'vitest';
import type { DesktopLockReason } from '../../shared/desktop-api';
import { PowerMonitorDouble } from '../../test/support/electron-double';
import { watchPowerLock, type PowerMonitorLike } from './power-lock';

// Electron's powerMonitor fits the narrow shape (checked by tsc).
export const electronFits = (p: PowerMonitor): PowerMonitorLike => p;

describe('watchPowerLock', () => {
  it("locks on 'lock-screen' and 'suspend', each time, and on nothing else", () => {
    const power = new PowerMonitorDouble();
    const locks: DesktopLockReason[] = [];
    watchPowerLock(power, (r) => locks.push(r));
    power.emit('lock-screen');
    power.emit('suspend');
    for (const other of ['unlock-screen', 'resume', 'on-ac', 'on-battery', 'shutdown', 'user-did-resign-active']) power.emit(other);
    power.emit('lock-screen');
    expect(locks).toEqual(['lock-screen', 'suspend', 'lock-screen']);
  });

  it('the disposer stops watching and removes its listeners', () => {
    const power = new PowerMonitorDouble();
    const locks: DesktopLockReason[] = [];
    const dispose = watchPowerLock(power, (r) => locks.push(r));
    expect(power.listenerCount('lock-screen')).toBe(1);
    expect(power.listenerCount('suspend')).toBe(1);
    dispose();
    power.emit('lock-screen');
    power.emit('suspend');
    expect(locks).toEqual([]);
    expect(power.eventNames()).toEqual([]);
  });

  it("leaves other listeners on powerMonitor alone", () => {
    const power = new PowerMonitorDouble();
    let others = 0;
    power.on('suspend', () => others++);
    watchPowerLock(power, () => undefined)();
    power.emit('suspend');
    expect(others).toBe(1);
  });
});
