/**
 * Locks the session when the OS locks the screen or the computer goes to sleep: the two
 * moments a workstation is left unattended with patient data on screen. Electron's
 * powerMonitor emits 'lock-screen' (macOS, Windows; some Linux desktops) and 'suspend'.
 */
import type { DesktopLockReason } from '../../shared/desktop-api';

/** The parts of Electron's powerMonitor used here (powerMonitor is one). */
export interface PowerMonitorLike {
  on(event: DesktopLockReason, listener: () => void): unknown;
  removeListener(event: DesktopLockReason, listener: () => void): unknown;
}

const LOCK_EVENTS: readonly DesktopLockReason[] = ['lock-screen', 'suspend'];

/**
 * Calls onLock('lock-screen') or onLock('suspend') on each such event, e.g.
 * `(reason) => void keeper.lock(reason)`. Returns a function that stops watching.
 */
export function watchPowerLock(powerMonitor: PowerMonitorLike, onLock: (reason: DesktopLockReason) => void): () => void {
  const listeners = LOCK_EVENTS.map((reason) => {
    const listener = () => onLock(reason);
    powerMonitor.on(reason, listener);
    return [reason, listener] as const;
  });
  return () => {
    for (const [reason, listener] of listeners) powerMonitor.removeListener(reason, listener);
  };
}
