/**
 * The preload's `window.flint` (shared/desktop-api.ts), built from an ipcRenderer so that
 * its surface can be tested without Electron. Named functions only, each bound to its own
 * channel of DESKTOP_CHANNELS: the page gets no generic invoke, no ipcRenderer and no IPC
 * event object (whose `sender` would be ipcRenderer itself). The main side checks the
 * sender and the arguments again (ipc.ts); the preload only shapes what it sends.
 *
 * Bundled into the sandboxed preload (dist/shell/preload.cjs): import nothing here but
 * electron's types and shared/.
 */
import type { DesktopLockReason, FlintDesktopApi, KeptSession } from '../../shared/desktop-api';
import { DESKTOP_CHANNELS } from '../../shared/desktop-api';

/** The parts of Electron's ipcRenderer used here (ipcRenderer is one). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

const LOCK_REASONS: ReadonlySet<unknown> = new Set<DesktopLockReason>(['lock-screen', 'suspend']);

/** The main side's reply to resumeSession, reshaped: a fresh object with the known fields, or null. */
function keptSessionOf(reply: unknown): KeptSession | null {
  if (typeof reply !== 'object' || reply === null) return null;
  const { refreshToken, username } = reply as Record<string, unknown>;
  if (typeof refreshToken !== 'string') return null;
  return typeof username === 'string' ? { refreshToken, username } : { refreshToken };
}

export function createDesktopApi(ipc: IpcRendererLike, appVersion: string): FlintDesktopApi {
  const api: FlintDesktopApi = {
    version() {
      return appVersion;
    },
    async resumeSession() {
      return keptSessionOf(await ipc.invoke(DESKTOP_CHANNELS.resumeSession));
    },
    async keepSession(session) {
      // The refresh token and the user's name only: the main side refuses any other field.
      const { refreshToken, username } = (typeof session === 'object' && session !== null ? session : {}) as Record<string, unknown>;
      await ipc.invoke(DESKTOP_CHANNELS.keepSession, username === undefined ? { refreshToken } : { refreshToken, username });
    },
    async endSession() {
      await ipc.invoke(DESKTOP_CHANNELS.endSession);
    },
    onLock(listener) {
      if (typeof listener !== 'function') throw new TypeError('onLock takes a function');
      const relay = (_event: unknown, reason: unknown) => {
        if (LOCK_REASONS.has(reason)) listener(reason as DesktopLockReason);
      };
      ipc.on(DESKTOP_CHANNELS.lock, relay);
      let subscribed = true;
      return function unsubscribe() {
        if (!subscribed) return;
        subscribed = false;
        ipc.removeListener(DESKTOP_CHANNELS.lock, relay);
      };
    },
    async openExternal(url) {
      await ipc.invoke(DESKTOP_CHANNELS.openExternal, url);
    },
  };
  return Object.freeze(api);
}
