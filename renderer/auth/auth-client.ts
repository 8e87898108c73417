/**
 * The UI's session with Flint's SMART authorization server, as its first-party client
 * `flint-ui` (docs/access-control.md): authorization code with PKCE, tokens held in this
 * object's memory only (never localStorage or cookies), the access token refreshed
 * silently before it expires. Only the PKCE verifier and state survive the redirect to
 * the sign-in page, in sessionStorage, and are removed as soon as the code is exchanged.
 *
 * Locking (idle time) tells the server to freeze the session: its tokens stop working
 * until the same user's password unlocks it; the screen underneath stays as it was.
 */
import { ApiError, OfflineError } from '../api/errors';
import type { TokenSource } from '../api/http';
import { challengeOf, randomToken } from './pkce';

export const CLIENT_ID = 'flint-ui';
export const SCOPE = 'openid fhirUser offline_access user/*.cruds';
const PENDING_KEY = 'flint.signin';

export type AuthState = 'signed-out' | 'signed-in' | 'locked';

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
  private readonly listeners = new Set<(s: AuthState) => void>();

  get current(): AuthState {
    return this.state;
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
    await this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(), client_id: CLIENT_ID, code_verifier: pending.verifier });
    this.set('signed-in');
    return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
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
    this.renewing ??= this.tokenRequest({ grant_type: 'refresh_token', refresh_token: this.refresh, client_id: CLIENT_ID })
      .then(() => true)
      .catch((e: unknown) => {
        if (e instanceof OfflineError) return false;
        this.clear();
        this.set('signed-out');
        return false;
      })
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Freezes the session on the server and forgets the access token. */
  async lock(): Promise<void> {
    if (this.state !== 'signed-in') return;
    this.access = undefined;
    this.set('locked');
    if (this.refresh) await this.form('/auth/lock', { client_id: CLIENT_ID, refresh_token: this.refresh }).catch(() => undefined);
  }

  /** Unlocks with the session user's password; throws ApiError(400) when it is wrong. */
  async unlock(password: string): Promise<void> {
    if (!this.refresh) throw new ApiError(401, undefined, 'Not signed in');
    await this.tokenRequest({ client_id: CLIENT_ID, refresh_token: this.refresh, password }, '/auth/unlock');
    this.set('signed-in');
  }

  async signOut(): Promise<void> {
    const refresh = this.refresh;
    this.clear();
    this.set('signed-out');
    if (refresh) await this.form('/auth/revoke', { token: refresh, client_id: CLIENT_ID }).catch(() => undefined);
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
    if (t.refresh_token) this.refresh = t.refresh_token;
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
