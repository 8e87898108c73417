/**
 * The UI's session with Flint's SMART authorization server, as its first-party client
 * `flint-ui` (docs/access-control.md): authorization code with PKCE, tokens held in this
 * object's memory only (never localStorage or cookies), the access token refreshed
 * silently before it expires. Only the PKCE verifier and state survive the redirect to
 * the sign-in page, in sessionStorage, and are removed as soon as the code is exchanged.
 *
 * Locking (idle time, the Lock button) tells the server to freeze the session: its tokens
 * stop working until the same user's password unlocks it; the screen underneath stays as
 * it was.
 *
 * In the desktop app a `SessionKeeper` (the shell, through window.flint) holds the refresh
 * token between windows and reloads: it is handed every new one (they rotate), a new page
 * resumes from it instead of signing in again, and sign-out ends it. The shell locks the
 * session when the OS locks the screen or sleeps, and says so (`lockedByShell`).
 */
import { SESSION_LOCKED_DESCRIPTION } from '../../shared/api/session';
import type { DesktopLockReason, FlintDesktopApi } from '../../shared/desktop-api';
import { ApiError, OfflineError } from '../api/errors';
import type { TokenSource } from '../api/http';
import { challengeOf, randomToken } from './pkce';

export const CLIENT_ID = 'flint-ui';
export const SCOPE = 'openid fhirUser offline_access user/*.cruds';
const PENDING_KEY = 'flint.signin';

/** `resuming`: in the desktop app, until the shell's kept session is taken up or found gone. */
export type AuthState = 'resuming' | 'signed-out' | 'signed-in' | 'locked';

/**
 * Why the session is locked: the idle timer, the Lock button, the desktop app (the OS
 * screen locked, the computer went to sleep), or the core refused a refresh because the
 * session was already locked (a page opened on a locked session).
 */
export type LockReason = 'idle' | 'manual' | DesktopLockReason | 'found-locked';

/** Where the desktop app keeps the session between windows and reloads (shared/desktop-api.ts). */
export type SessionKeeper = Pick<FlintDesktopApi, 'resumeSession' | 'keepSession' | 'endSession'>;


type RefreshOutcome = 'renewed' | 'locked' | 'refused' | 'offline';

const ignore = (): undefined => undefined;

interface TokenResponse {
  access_token: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

interface Pending {
  verifier: string;
  state: string;
  returnTo: string;
}

export const redirectUri = (): string => `${location.origin}/callback`;

export class AuthClient implements TokenSource {
  private access: string | undefined;
  private expiresAt = 0;
  private refresh: string | undefined;
  private renewing: Promise<boolean> | undefined;
  private state: AuthState = 'signed-out';
  private why: LockReason = 'idle';
  /** The refresh token the keeper confirmed it holds (what the shell locks with). */
  private kept: string | undefined;
  /** The signed-in user's name, once known (rememberUser, or the keeper's session). */
  private user: string | undefined;
  private resumeStarted = false;
  /** A lock from the shell that arrived while the session was being resumed. */
  private lockWhenResumed: DesktopLockReason | undefined;
  private readonly listeners = new Set<(s: AuthState) => void>();

  /** With a keeper (the desktop app) the session starts `resuming`: call `resume()`. */
  constructor(private readonly keeper?: SessionKeeper) {
    if (keeper) this.state = 'resuming';
  }

  get current(): AuthState {
    return this.state;
  }

  /** Why the session is locked (meaningful while `current` is `locked`). */
  get lockReason(): LockReason {
    return this.why;
  }

  /** The signed-in user's name, if known: a page opened on a locked session has it from the keeper. */
  get username(): string | undefined {
    return this.user;
  }

  /**
   * The signed-in user's name, from /flint/session. In the desktop app the keeper gets it with
   * the refresh token, so that a window opened on this session while it is locked can say
   * whose it is.
   */
  rememberUser(username: string): void {
    if (this.user === username) return;
    this.user = username;
    if (this.refresh && this.state !== 'signed-out') this.handOver(this.refresh);
  }

  subscribe(fn: (s: AuthState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(state: AuthState): void {
    this.state = state;
    for (const fn of this.listeners) fn(state);
  }

  /** Goes to the sign-in page; comes back to /callback, then to `returnTo`. */
  async beginSignIn(returnTo: string): Promise<void> {
    const pending: Pending = { verifier: randomToken(48), state: randomToken(16), returnTo };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: redirectUri(),
      scope: SCOPE,
      state: pending.state,
      aud: `${location.origin}/fhir`,
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: 'S256',
    });
    location.assign(`/auth/authorize?${q.toString()}`);
  }

  /** On /callback: exchanges the code; returns where to go next. */
  async completeSignIn(url: URL): Promise<string> {
    const raw = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
    const error = url.searchParams.get('error');
    if (error) throw new Error(error === 'access_denied' ? 'Sign-in was cancelled.' : 'Sign-in failed. Try again.');
    const code = url.searchParams.get('code');
    if (!pending || !code || url.searchParams.get('state') !== pending.state) throw new Error('This sign-in link is not valid any more. Sign in again.');
    this.user = undefined; // a new sign-in: whose it is comes from /flint/session
    await this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(), client_id: CLIENT_ID, code_verifier: pending.verifier });
    this.set('signed-in');
    return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
  }

  /**
   * Once per page in the desktop app (not on /callback, which completes a new sign-in):
   * takes up the session the keeper holds instead of asking the user to sign in again. A
   * session the core reports locked opens on the lock screen; one that is over is
   * forgotten, and the user signs in.
   */
  async resume(): Promise<void> {
    if (!this.keeper || this.resumeStarted) return;
    this.resumeStarted = true;
    const kept = await this.keeper.resumeSession().catch(() => null);
    if (this.state !== 'resuming') return;
    if (!kept) return this.set('signed-out');
    this.refresh = this.kept = kept.refreshToken;
    this.user = kept.username;
    const outcome = await this.refreshGrant();
    const lockedMeanwhile = this.lockWhenResumed;
    this.lockWhenResumed = undefined;
    if (outcome === 'renewed') {
      this.set('signed-in');
      // The shell's lock may have used the token this refresh had just replaced (and been
      // refused): the page locks the core itself.
      if (lockedMeanwhile) await this.lock(lockedMeanwhile);
    } else if (outcome === 'locked') {
      this.toLocked(lockedMeanwhile ?? 'found-locked');
    } else if (outcome === 'refused') {
      await this.end();
    } else {
      // The core did not answer: nothing to show but the sign-in; the keeper keeps the
      // session for the next try (a reload).
      this.clear();
      this.set('signed-out');
    }
  }

  async token(): Promise<string> {
    if (this.state === 'locked') throw new ApiError(401, undefined, 'The session is locked');
    if (!this.access) throw new ApiError(401, undefined, 'Not signed in');
    if (Date.now() > this.expiresAt - 30_000) await this.renew();
    if (!this.access) throw new ApiError(401, undefined, 'Not signed in');
    return this.access;
  }

  /** A new access token from the refresh token; one request at a time. */
  renew(): Promise<boolean> {
    if (this.state !== 'signed-in' || !this.refresh) return Promise.resolve(false);
    this.renewing ??= this.refreshGrant()
      .then(async (outcome) => {
        // Locked by someone else (the shell, before its word reached this page).
        if (outcome === 'locked') this.toLocked('found-locked');
        if (outcome === 'refused') await this.end();
        return outcome === 'renewed';
      })
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Freezes the session on the server and forgets the access token. */
  async lock(reason: LockReason = 'manual'): Promise<void> {
    if (this.state !== 'signed-in') return;
    this.toLocked(reason);
    if (this.refresh) await this.form('/auth/lock', { client_id: CLIENT_ID, refresh_token: this.refresh }).catch(ignore);
  }

  /**
   * The desktop app locked the session (the OS screen locked, the computer went to sleep).
   * The shell has told the core already, with the refresh token it was last handed. If that
   * is not this page's token (a refresh crossed the lock), the core refused the shell's
   * call, so the page tells the core itself; only then: otherwise the shell's call already did it.
   */
  async lockedByShell(reason: DesktopLockReason): Promise<void> {
    if (this.state === 'resuming') {
      this.lockWhenResumed = reason;
      return;
    }
    if (this.state !== 'signed-in') return;
    const shellLockedIt = this.refresh !== undefined && this.refresh === this.kept;
    this.toLocked(reason);
    if (!shellLockedIt && this.refresh) await this.form('/auth/lock', { client_id: CLIENT_ID, refresh_token: this.refresh }).catch(ignore);
  }

  /** Unlocks with the session user's password; throws ApiError(400) when it is wrong. */
  async unlock(password: string): Promise<void> {
    if (!this.refresh) throw new ApiError(401, undefined, 'Not signed in');
    await this.tokenRequest({ client_id: CLIENT_ID, refresh_token: this.refresh, password }, '/auth/unlock');
    this.set('signed-in');
  }

  async signOut(): Promise<void> {
    const refresh = this.refresh;
    await Promise.all([this.end(), refresh ? this.form('/auth/revoke', { token: refresh, client_id: CLIENT_ID }).catch(ignore) : undefined]);
  }

  /** One refresh-token grant, and what the core's answer means for the session. */
  private async refreshGrant(): Promise<RefreshOutcome> {
    try {
      await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: this.refresh!, client_id: CLIENT_ID });
      return 'renewed';
    } catch (e) {
      if (e instanceof OfflineError) return 'offline';
      return e instanceof ApiError && e.status === 400 && e.details.includes(SESSION_LOCKED_DESCRIPTION) ? 'locked' : 'refused';
    }
  }

  private toLocked(reason: LockReason): void {
    this.access = undefined;
    this.why = reason;
    this.set('locked');
  }

  /** Signed out here, and the keeper forgets the session (the next page signs in). */
  private async end(): Promise<void> {
    this.clear();
    this.kept = undefined;
    this.user = undefined;
    this.set('signed-out');
    await this.keeper?.endSession().catch(ignore);
  }

  private clear(): void {
    this.access = undefined;
    this.refresh = undefined;
    this.expiresAt = 0;
  }

  private async tokenRequest(params: Record<string, string>, endpoint = '/auth/token'): Promise<void> {
    const t = (await this.form(endpoint, params)) as TokenResponse;
    this.access = t.access_token;
    this.expiresAt = Date.now() + (t.expires_in ?? 300) * 1000;
    if (t.refresh_token) {
      this.refresh = t.refresh_token;
      this.handOver(t.refresh_token);
    }
  }

  /** Every new refresh token goes to the keeper: the one it held stopped working. */
  private handOver(refreshToken: string): void {
    const username = this.user;
    this.keeper?.keepSession(username === undefined ? { refreshToken } : { refreshToken, username }).then(() => {
      this.kept = refreshToken;
    }, ignore);
  }

  private async form(endpoint: string, params: Record<string, string>): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(params).toString(),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new OfflineError();
    }
    const text = await res.text();
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw new ApiError(res.status, undefined, String(body.error_description ?? body.error ?? `HTTP ${res.status}`));
    return body;
  }
}
