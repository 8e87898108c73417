/**
 * POST /auth/lock and POST /auth/unlock: Flint's UI locks its session when it has been
 * idle, and unlocks it with the user's password without leaving the page (so the screen
 * keeps its state). Only for `flint-ui`, whose refresh tokens name their session
 * (auth/ui-sessions.ts).
 *
 *   lock    client_id, refresh_token            -> 200 {}; the session's refresh token is
 *           refused and its access tokens stop working (401) until it is unlocked
 *   unlock  client_id, refresh_token, password  -> the token response (new access token,
 *           rotated refresh token) if the password is the session user's
 *
 * A wrong password at unlock is a failed login in every respect: the same vague answer,
 * the same count towards the account's lockout, the same audit record.
 */
import type { HeldRefresh } from '../tokens';
import { UI_CLIENT_ID, uiApp } from '../ui-client';
import type { UiSession } from '../ui-sessions';
import type { SmartContext } from './context';
import { LOGIN_FAILED } from './pages';
import { json, methodNotAllowed, oauthError, readParams } from './responses';
import { isForm, userTokens } from './token';
import type { AuthRequest, AuthResponse } from './types';

const MAX_PASSWORD = 1024;
const ENDED = 'the session has ended; sign in again';

type Checked = { ok: true; token: string; held: HeldRefresh; session: UiSession; password?: string } | { ok: false; response: AuthResponse };

/** The request's form, checked: the UI's client id and a live refresh token of a live session. */
function check(ctx: SmartContext, req: AuthRequest, withPassword: boolean): Checked {
  const fail = (response: AuthResponse): Checked => ({ ok: false, response });
  if (req.method !== 'POST') return fail(methodNotAllowed(['POST']));
  if (!isForm(req)) return fail(oauthError('invalid_request', 'send the request as application/x-www-form-urlencoded'));
  const names = withPassword ? (['client_id', 'refresh_token', 'password'] as const) : (['client_id', 'refresh_token'] as const);
  const read = readParams(req.form, names);
  if (!read.ok) return fail(oauthError('invalid_request', `${read.repeated} is repeated`));
  const v = read.values as Partial<Record<'client_id' | 'refresh_token' | 'password', string>>;
  if (!v.client_id) return fail(oauthError('invalid_request', 'client_id is required'));
  if (v.client_id !== UI_CLIENT_ID) return fail(oauthError('unauthorized_client', 'only the Flint UI locks and unlocks sessions'));
  if (!v.refresh_token) return fail(oauthError('invalid_request', 'refresh_token is required'));
  if (withPassword && !v.password) return fail(oauthError('invalid_request', 'password is required'));
  const held = ctx.accounts.tokens.checkRefresh(v.refresh_token, UI_CLIENT_ID);
  const session = held?.session ? ctx.accounts.sessions.get(held.session) : undefined;
  if (!held || !session || session.userId !== held.grant.userId) return fail(oauthError('invalid_grant', ENDED));
  return { ok: true, token: v.refresh_token, held, session, ...(v.password ? { password: v.password } : {}) };
}

export async function lock(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  const c = check(ctx, req, false);
  if (!c.ok) return c.response;
  ctx.accounts.sessions.lock(c.session.id);
  return json(200, {});
}

export async function unlock(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  const c = check(ctx, req, true);
  if (!c.ok) return c.response;
  const password = c.password!;
  const user = ctx.accounts.users.byId(c.session.userId);
  if (!user) return oauthError('invalid_grant', ENDED);
  // users.login: counts a wrong password towards the lockout, fails for a locked-out or
  // disabled account, and (audited accounts) records the attempt like any login.
  const result = password.length > MAX_PASSWORD ? undefined : await ctx.accounts.users.login(user.username, password);
  if (!result?.ok) return oauthError('invalid_grant', LOGIN_FAILED);
  // Rotated only now: a refused unlock leaves the refresh token usable for the next try.
  const rotated = ctx.accounts.tokens.rotateRefresh(c.token, UI_CLIENT_ID);
  if (!rotated || !ctx.accounts.sessions.unlock(c.session.id)) return oauthError('invalid_grant', ENDED);
  return userTokens(ctx, {
    app: uiApp(req.origin),
    user: result.user,
    scope: rotated.grant.scope,
    patient: undefined,
    refreshToken: rotated.refresh,
    origin: req.origin,
    session: c.session.id,
  });
}
