/**
 * The main side of the desktop bridge (shared/desktop-api.ts): one ipcMain handler per
 * invoke-style channel of DESKTOP_CHANNELS, and the sender of the lock event.
 *
 * Every message is checked before its handler runs:
 *  - the sender: the main frame (no parent) of one of Flint's own windows, showing a page
 *    of the app's origin. Any page can reach the preload's functions, so a page of another
 *    origin (or a frame inside ours) must not be able to read or replace the session;
 *  - the arguments: exactly what the channel takes, strictly typed and bounded.
 * A refused message rejects with a plain error and a log line naming the channel and the
 * reason, never the arguments (a refresh token, or a URL that may carry patient data).
 */
import type { DesktopLockReason, KeptSession } from '../../shared/desktop-api';
import { DESKTOP_CHANNELS } from '../../shared/desktop-api';
import { checkExternalUrl } from './external-links';
import { isAppUrl } from './security';

/** What the checks read of an invoke event; Electron's IpcMainInvokeEvent has these. */
export interface IpcSenderEvent<Contents> {
  readonly sender: Contents;
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

/** The parts of Electron's ipcMain used here (ipcMain is one). */
export interface IpcMainLike<Contents> {
  handle(channel: string, listener: (event: IpcSenderEvent<Contents>, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** What each channel does once its message has passed the checks (session-keeper.ts, external-links.ts). */
export interface DesktopIpcHandlers {
  resumeSession(): KeptSession | null | Promise<KeptSession | null>;
  keepSession(session: KeptSession): void | Promise<void>;
  endSession(): void | Promise<void>;
  /** Gets an https:// URL that passed checkExternalUrl. */
  openExternal(url: string): void | Promise<void>;
}

export interface DesktopIpcOptions<Contents> {
  /** The core's origin, e.g. http://127.0.0.1:49152. */
  appOrigin: string;
  /** True for the web contents of one of Flint's own windows, e.g. `(c) => BrowserWindow.fromWebContents(c) !== null`. */
  isAppWindow(contents: Contents): boolean;
  handlers: DesktopIpcHandlers;
  /** One line per refused or failed message; never given an argument. */
  log(line: string): void;
}

/** Refresh tokens are `<session id>.<secret>`, base64url: printable ASCII, bounded. */
const REFRESH_TOKEN = /^[\x21-\x7e]{16,4096}$/;

/** A message refused by a check; its text never quotes an argument. */
class Refused extends Error {}

type Invoke = (args: readonly unknown[], handlers: DesktopIpcHandlers) => unknown;

function noArguments(args: readonly unknown[]): void {
  if (args.length !== 0) throw new Refused('takes no arguments');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A user name as accounts hold them, bounded: no control characters. */
const USERNAME = /^[^\p{Cc}]{1,256}$/u;

/**
 * Exactly `{ refreshToken: string, username?: string }`: the token 16..4096 printable ASCII
 * characters, the name 1..256 characters without control characters.
 */
export function checkKeptSession(args: readonly unknown[]): KeptSession {
  const [session] = args;
  if (args.length !== 1 || !isPlainObject(session)) throw new Refused('takes one argument, { refreshToken: string, username?: string }');
  const keys = Object.keys(session);
  if (!keys.includes('refreshToken') || keys.some((k) => k !== 'refreshToken' && k !== 'username')) {
    throw new Refused('takes { refreshToken, username? } and no other field');
  }
  const token = session.refreshToken;
  if (typeof token !== 'string' || !REFRESH_TOKEN.test(token)) throw new Refused('refreshToken must be 16 to 4096 printable ASCII characters');
  if (!('username' in session)) return { refreshToken: token };
  const username = session.username;
  if (typeof username !== 'string' || !USERNAME.test(username)) throw new Refused('username must be 1 to 256 characters without control characters');
  return { refreshToken: token, username };
}

/** One string: an https:// URL without credentials, not on the app's origin (external-links.ts). */
export function checkExternalUrlArgument(args: readonly unknown[], appOrigin: string): string {
  if (args.length !== 1) throw new Refused('takes one argument, a URL');
  const verdict = checkExternalUrl(args[0], appOrigin);
  if (!verdict.ok) throw new Refused(verdict.reason);
  return verdict.url;
}

function channels(appOrigin: string): Record<string, Invoke> {
  return {
    [DESKTOP_CHANNELS.resumeSession]: (args, h) => {
      noArguments(args);
      return h.resumeSession();
    },
    [DESKTOP_CHANNELS.keepSession]: (args, h) => h.keepSession(checkKeptSession(args)),
    [DESKTOP_CHANNELS.endSession]: (args, h) => {
      noArguments(args);
      return h.endSession();
    },
    [DESKTOP_CHANNELS.openExternal]: (args, h) => h.openExternal(checkExternalUrlArgument(args, appOrigin)),
  };
}

/** Why a sender is refused, or undefined when it is the main frame of one of our windows on our origin. */
export function senderRefusal<Contents>(event: IpcSenderEvent<Contents>, options: Pick<DesktopIpcOptions<Contents>, 'appOrigin' | 'isAppWindow'>): string | undefined {
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone';
  if (frame.parent !== null) return 'sent from a subframe';
  if (!isAppUrl(frame.url, options.appOrigin)) return "sent from a page outside the app's origin";
  if (!options.isAppWindow(event.sender)) return "sent from a web contents that is not one of Flint's windows";
  return undefined;
}

/**
 * Registers a handler on every invoke-style channel of DESKTOP_CHANNELS (all but `lock`,
 * which goes the other way: sendLock). Returns a function that removes them again.
 */
export function registerDesktopIpc<Contents>(ipcMain: IpcMainLike<Contents>, options: DesktopIpcOptions<Contents>): () => void {
  const table = channels(options.appOrigin);
  for (const [channel, invoke] of Object.entries(table)) {
    ipcMain.handle(channel, async (event, ...args) => {
      const refusal = senderRefusal(event, options);
      if (refusal) {
        options.log(`flint: IPC ${channel} refused: ${refusal}`);
        throw new Error(`${channel} refused: not sent by Flint's own window`);
      }
      try {
        return await invoke(args, options.handlers);
      } catch (err) {
        if (err instanceof Refused) {
          options.log(`flint: IPC ${channel} refused: ${err.message}`);
          throw new Error(`${channel} refused: ${err.message}`);
        }
        // A handler's own error may quote what it was given: its name only.
        options.log(`flint: IPC ${channel} failed: ${err instanceof Error ? err.name : typeof err}`);
        throw new Error(`${channel} failed`);
      }
    });
  }
  return () => {
    for (const channel of Object.keys(table)) ipcMain.removeHandler(channel);
  };
}

/** The parts of Electron's WebContents that sendLock uses (a WebContents is one). */
export interface LockTarget {
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
}

/**
 * Tells each window showing the app that the session is locked (DESKTOP_CHANNELS.lock, the
 * reason as its one argument). Windows that are gone or show another origin are skipped.
 * Returns how many were told.
 */
export function sendLock(targets: Iterable<LockTarget>, reason: DesktopLockReason, appOrigin: string): number {
  let told = 0;
  for (const contents of targets) {
    if (contents.isDestroyed() || !isAppUrl(contents.getURL(), appOrigin)) continue;
    contents.send(DESKTOP_CHANNELS.lock, reason);
    told++;
  }
  return told;
}
