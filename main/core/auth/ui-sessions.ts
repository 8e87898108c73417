/**
 * The UI's sessions, in this process's memory: one per sign-in of `flint-ui`, named by a
 * random id that its access tokens carry (claim `sid`) and its refresh tokens start with.
 * A locked session's refresh tokens are refused and its access tokens stop working until
 * the user's password unlocks it. A session ends 12 hours after its sign-in, when its
 * refresh token is revoked (sign-out), or when the server stops: a restart signs the UI
 * out, so a lock cannot be undone by restarting.
 */
import { randomBytes } from 'node:crypto';
import { UI_SESSION_MS } from './ui-client';

export interface UiSession {
  id: string;
  userId: string;
  /** When the session ends (ms): 12 hours after the sign-in. */
  expires: number;
  locked: boolean;
}

export interface UiSessions {
  /** A new, unlocked session for `userId`. */
  start(userId: string): UiSession;
  /** The live session `id` (copy), or undefined when it ended or never was. */
  get(id: string): UiSession | undefined;
  /** Whether an access token of session `id` for `userId` may be used now. */
  admits(id: string | undefined, userId: string): boolean;
  lock(id: string): UiSession | undefined;
  unlock(id: string): UiSession | undefined;
  end(id: string): void;
  /** Changes whenever a session is locked, unlocked or ended: what a token cache checks against. */
  version(): number;
}

/** Past this many live sessions the oldest ends (sign-ins are rate limited; this is a backstop). */
export const MAX_UI_SESSIONS = 10_000;

/** Session ids are 16 random bytes, base64url: 22 characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export function createUiSessions(now: () => number = Date.now): UiSessions {
  const sessions = new Map<string, UiSession>();
  let version = 0;
  const live = (id: string | undefined): UiSession | undefined => {
    const s = id === undefined ? undefined : sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= now()) {
      sessions.delete(s.id);
      version++;
      return undefined;
    }
    return s;
  };
  const setLocked = (id: string, locked: boolean) => {
    const s = live(id);
    if (!s) return undefined;
    if (s.locked !== locked) {
      s.locked = locked;
      version++;
    }
    return { ...s };
  };
  return {
    start(userId) {
      const t = now();
      for (const [id, s] of sessions) if (s.expires <= t) sessions.delete(id);
      // Insertion order is age order.
      while (sessions.size >= MAX_UI_SESSIONS) {
        sessions.delete(sessions.keys().next().value!);
        version++;
      }
      const s: UiSession = { id: randomBytes(16).toString('base64url'), userId, expires: t + UI_SESSION_MS, locked: false };
      sessions.set(s.id, s);
      return { ...s };
    },
    get(id) {
      const s = live(id);
      return s ? { ...s } : undefined;
    },
    admits(id, userId) {
      const s = live(id);
      return !!s && !s.locked && s.userId === userId;
    },
    lock: (id) => setLocked(id, true),
    unlock: (id) => setLocked(id, false),
    end(id) {
      if (sessions.delete(id)) version++;
    },
    version: () => version,
  };
}
