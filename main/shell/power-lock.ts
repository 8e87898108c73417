/**
 * Locks the session when the OS locks the screen or the computer goes to sleep: the two
 * moments a workstation is left unattended with patient data on screen.
 *
 * Electron's powerMonitor emits 'suspend' everywhere, but 'lock-screen' only on macOS and
 * Windows. So the screen's lock is also polled: `getSystemIdleState()` answers 'locked'
 * where Chromium can tell (on Linux, through the desktop's screen saver service). Whichever
 * notices first locks; a screen lock is reported once until the screen is unlocked again
 * ('unlock-screen', or a poll that finds it active or idle).
 */
import type { DesktopLockReason } from '../../shared/desktop-api';

type IdleState = 'active' | 'idle' | 'locked' | 'unknown';
type PowerEvent = DesktopLockReason | 'unlock-screen';

/** The parts of Electron's powerMonitor used here (powerMonitor is one). */
export interface PowerMonitorLike {
  on(event: PowerEvent, listener: () => void): unknown;
  removeListener(event: PowerEvent, listener: () => void): unknown;
  getSystemIdleState?(idleThreshold: number): IdleState;
}

export interface PowerLockOptions {
  /** How often the screen's lock state is polled (default 5 s; 0: never). */
  pollMs?: number;
}

export const SCREEN_POLL_MS = 5_000;
/** Seconds without input before getSystemIdleState says 'idle'; only 'locked' matters here. */
const IDLE_THRESHOLD_S = 60;

/**
 * Calls onLock('lock-screen') or onLock('suspend') when the screen locks or the computer
 * sleeps, e.g. `(reason) => void keeper.lock(reason)`. Returns a function that stops watching.
 */
export function watchPowerLock(
  powerMonitor: PowerMonitorLike,
  onLock: (reason: DesktopLockReason) => void,
  { pollMs = SCREEN_POLL_MS }: PowerLockOptions = {},
): () => void {
  let screenLocked = false;
  const listeners: Record<PowerEvent, () => void> = {
    'lock-screen': () => {
      if (screenLocked) return;
      screenLocked = true;
      onLock('lock-screen');
    },
    'unlock-screen': () => {
      screenLocked = false;
    },
    suspend: () => onLock('suspend'),
  };
  const entries = Object.entries(listeners) as Array<[PowerEvent, () => void]>;
  for (const [event, listener] of entries) powerMonitor.on(event, listener);

  let timer: NodeJS.Timeout | undefined;
  const poll = powerMonitor.getSystemIdleState?.bind(powerMonitor);
  if (poll && pollMs > 0) {
    timer = setInterval(() => {
      const state = poll(IDLE_THRESHOLD_S);
      if (state === 'locked') listeners['lock-screen']();
      else if (state !== 'unknown') screenLocked = false;
    }, pollMs);
    timer.unref?.();
  }
  return () => {
    if (timer) clearInterval(timer);
    for (const [event, listener] of entries) powerMonitor.removeListener(event, listener);
  };
}
