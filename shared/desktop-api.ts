/**
 * The desktop bridge: what the Electron preload exposes to the UI as `window.flint`
 * (main/shell/preload.ts), and what the UI may use when it is present (renderer/api/desktop.ts).
 * In a plain browser (`flint serve`) `window.flint` is absent and the UI works without it.
 *
 * Named functions only, no generic invoke(channel): every function here has one IPC channel
 * and one handler in main/shell that checks the sender's origin and validates the arguments
 * (main/shell/ipc.ts). Everything clinical goes through the core's HTTP API, never through
 * this bridge.
 */

/** The tray's view of sync, from the core's SyncStatus (main/shell/tray-state.ts). */
export type DesktopSyncState = 'not-configured' | 'up-to-date' | 'syncing' | 'offline' | 'paused' | 'error' | 'conflicts';

/**
 * The UI's session kept by the shell for this run of the app, in the main process's memory
 * only (never on disk): a window opened again from the tray, or reloaded, resumes it instead
 * of asking the user to sign in a second time.
 */
export interface KeptSession {
  /** The `flint-ui` client's refresh token (docs/access-control.md). */
  refreshToken: string;
  /**
   * The signed-in user's name, once the UI knows it: a window opened on a locked session
   * names whose session it is on the lock screen ("Enter the password of ...").
   */
  username?: string;
}

/** Why the shell locked the session: the OS screen locked, or the computer went to sleep. */
export type DesktopLockReason = 'lock-screen' | 'suspend';

export interface FlintDesktopApi {
  /** The desktop app's version, e.g. "0.1.0". */
  version(): string;
  /** The session kept by the shell, or null when there is none (first window, after sign-out). */
  resumeSession(): Promise<KeptSession | null>;
  /**
   * Called by the UI after each sign-in, each refresh and each unlock (refresh tokens
   * rotate). Rejects unless the refresh token is 16..4096 printable ASCII characters.
   */
  keepSession(session: KeptSession): Promise<void>;
  /** Called by the UI when the user signs out: the shell forgets the session. */
  endSession(): Promise<void>;
  /**
   * Called when the shell has locked the session (it already told the core, with the kept
   * refresh token). The UI shows its lock screen. Returns a function that unsubscribes.
   */
  onLock(listener: (reason: DesktopLockReason) => void): () => void;
  /** Opens an https:// URL in the system browser; anything else is refused (rejects). */
  openExternal(url: string): Promise<void>;
}

/**
 * IPC channel names, one per function but version() (the preload knows it). main/shell/ipc.ts
 * handles each invoke-style channel and sends `lock` (main -> renderer) itself.
 */
export const DESKTOP_CHANNELS = {
  resumeSession: 'flint:resume-session',
  keepSession: 'flint:keep-session',
  endSession: 'flint:end-session',
  lock: 'flint:lock',
  openExternal: 'flint:open-external',
} as const;
