/**
 * The UI's session, kept by the shell for one run of the app (shared/desktop-api.ts
 * KeptSession): the `flint-ui` refresh token in this process's memory only, never on disk,
 * so that a window opened again from the tray, or reloaded, resumes it without a second
 * sign-in. When the OS locks the screen or sleeps (power-lock.ts), lock() freezes the session
 * at the core, as the UI's own idle lock does (POST /auth/lock, renderer/auth/auth-client.ts),
 * and then tells the windows, which show their unlock screen.
 */
import type { DesktopLockReason, KeptSession } from '../../shared/desktop-api';

/** The UI's client id (main/core/auth/ui-client.ts); only it may lock a session. */
const UI_CLIENT_ID = 'flint-ui';

/** A lock must not wait long: the computer may be about to sleep. Loopback answers in ms. */
const LOCK_TIMEOUT_MS = 3_000;

export interface SessionKeeperOptions {
  /** The core's origin, e.g. http://127.0.0.1:49152 (CoreHost.baseUrl). */
  baseUrl: string;
  /** Tells the windows that the session is locked (ipc.ts sendLock). Called once per lock(). */
  notifyLock(reason: DesktopLockReason): void;
  /** One line when the core did not take the lock; never the token. */
  log(line: string): void;
  /** How long lock() waits for the core; default 3 s. */
  lockTimeoutMs?: number;
}

export interface SessionKeeper {
  /** Keeps the UI's latest refresh token (after sign-in, refresh and unlock). */
  keep(session: KeptSession): void;
  /**
   * The kept session (a copy), or null. After lock() it is still kept: the core refuses its
   * refresh with "the session is locked", and the UI shows its unlock screen.
   */
  resume(): KeptSession | null;
  /** Forgets the session (the UI signed out; it revokes the token itself). */
  end(): void;
  /**
   * Locks the kept session at the core (POST <baseUrl>/auth/lock as flint-ui), then calls
   * notifyLock(reason). With no kept session it only notifies. Never rejects: a core that
   * refuses or does not answer is logged, and the windows are told all the same.
   */
  lock(reason: DesktopLockReason): Promise<void>;
}

export function createSessionKeeper(options: SessionKeeperOptions): SessionKeeper {
  let kept: KeptSession | undefined;
  const lockUrl = new URL('/auth/lock', options.baseUrl).href;

  async function tellCore(refreshToken: string): Promise<void> {
    try {
      const res = await fetch(lockUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ client_id: UI_CLIENT_ID, refresh_token: refreshToken }).toString(),
        signal: AbortSignal.timeout(options.lockTimeoutMs ?? LOCK_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.ok) return;
      // The OAuth error code (e.g. invalid_grant for a session already ended) says enough.
      let code = '';
      try {
        const body = JSON.parse(text) as { error?: unknown };
        if (typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error)) code = ` ${body.error}`;
      } catch {
        // not JSON: the status alone
      }
      options.log(`flint: the core refused to lock the session (${res.status}${code})`);
    } catch (err) {
      options.log(`flint: could not lock the session at the core: ${err instanceof Error ? err.name : typeof err}`);
    }
  }

  return {
    keep(session) {
      // Exactly what the UI hands over: a name is never carried over to another token.
      kept = { refreshToken: session.refreshToken, ...(session.username !== undefined ? { username: session.username } : {}) };
    },
    resume() {
      return kept ? { ...kept } : null;
    },
    end() {
      kept = undefined;
    },
    async lock(reason) {
      if (kept) await tellCore(kept.refreshToken);
      options.notifyLock(reason);
    },
  };
}
