/**
 * POST /auth/token (RFC 6749 3.2, SMART App Launch and Backend Services): the
 * authorization code grant with PKCE, refresh token rotation, and client_credentials
 * for backend services. Answers are JSON, never cached; errors are RFC 6749 5.2 objects
 * whose descriptions are fixed text.
 */
import { SESSION_LOCKED_DESCRIPTION } from '../../../../shared/api/session';
import type { App } from '../apps';
import { narrowScopes, parseScopes, systemScopesOf } from '../scopes';
import { sessionOfRefresh, sha256 } from '../tokens';
import { UI_ACCESS_TTL_S } from '../ui-client';
import type { User } from '../users';
import { authenticateClient } from './client-auth';
import { isUiClient } from './clients';
import type { SmartContext } from './context';
import { sameSecret } from './pending';
import { json, methodNotAllowed, oauthError, readParams } from './responses';
import { smartUrls } from './smart-configuration';
import type { AuthRequest, AuthResponse } from './types';

/** SMART Backend Services: a service's access token should last five minutes at most. */
export const BACKEND_TTL_S = 300;

const PARAMS = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'refresh_token',
  'scope',
  'client_id',
  'client_assertion_type',
  'client_assertion',
] as const;
type Values = Partial<Record<(typeof PARAMS)[number], string>>;

/** RFC 7636 4.1: 43-128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isForm = (req: AuthRequest): boolean =>
  !!req.form && (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';

export async function token(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  if (req.method !== 'POST') return methodNotAllowed(['POST']);
  if (!isForm(req)) return oauthError('invalid_request', 'send the request as application/x-www-form-urlencoded');
  const read = readParams(req.form, PARAMS);
  if (!read.ok) return oauthError('invalid_request', `${read.repeated} is repeated`);
  const v = read.values;
  const tokenUrl = smartUrls(req.origin).token;
  switch (v.grant_type) {
    case undefined:
      return oauthError('invalid_request', 'grant_type is required');
    case 'authorization_code':
      return authorizationCode(ctx, v, req.origin, tokenUrl);
    case 'refresh_token':
      return refresh(ctx, v, req.origin, tokenUrl);
    case 'client_credentials':
      return clientCredentials(ctx, v, tokenUrl);
    default:
      return oauthError('unsupported_grant_type', 'grant_type must be authorization_code, refresh_token or client_credentials');
  }
}

async function authorizationCode(ctx: SmartContext, v: Values, origin: string, tokenUrl: string): Promise<AuthResponse> {
  const client = await authenticateClient(ctx, v, tokenUrl);
  if (!client.ok) return client.response;
  if (!v.code || !v.redirect_uri) return oauthError('invalid_request', 'code and redirect_uri are required');
  if (!v.code_verifier || !VERIFIER.test(v.code_verifier)) return oauthError('invalid_request', 'a PKCE code_verifier of 43-128 characters is required');
  // Redeeming spends the code whatever follows: a wrong verifier gets no second try.
  const redeemed = ctx.accounts.tokens.redeemCode(v.code);
  if (redeemed === 'replayed') return oauthError('invalid_grant', 'the code was already used; the tokens issued for it are revoked');
  if (!redeemed) return oauthError('invalid_grant', 'the code is not valid or has expired');
  const { grant } = redeemed;
  if (grant.clientId !== client.app.clientId) return oauthError('invalid_grant', 'the code was issued to another client');
  if (redeemed.redirectUri !== v.redirect_uri) return oauthError('invalid_grant', 'redirect_uri does not match the authorization request');
  if (!sameSecret(sha256(v.code_verifier), redeemed.challenge)) return oauthError('invalid_grant', 'code_verifier does not match the code_challenge');
  const user = activeUser(ctx, grant.userId);
  if (!user) return oauthError('invalid_grant', 'the grant is no longer valid');
  const other = parseScopes(grant.scope).other;
  const wantsRefresh = other.has('offline_access') || other.has('online_access');
  // Each sign-in of the UI is a session of its own: lockable, and over in 12 hours.
  const session = isUiClient(client.app.clientId) ? ctx.accounts.sessions.start(user.id) : undefined;
  const refreshToken = !wantsRefresh
    ? undefined
    : ctx.accounts.tokens.issueRefresh(grant, session ? { session: session.id, expires: session.expires } : {});
  return userTokens(ctx, { app: client.app, user, scope: grant.scope, patient: grant.patient ?? undefined, refreshToken, origin, session: session?.id });
}

async function refresh(ctx: SmartContext, v: Values, origin: string, tokenUrl: string): Promise<AuthResponse> {
  const client = await authenticateClient(ctx, v, tokenUrl);
  if (!client.ok) return client.response;
  if (!v.refresh_token) return oauthError('invalid_request', 'refresh_token is required');
  // The UI's refresh tokens work only in a live, unlocked session of this process; checked
  // before rotating, so a refused request leaves the token as it was (unlock uses it).
  const session = isUiClient(client.app.clientId) ? sessionOfRefresh(v.refresh_token) : undefined;
  if (isUiClient(client.app.clientId)) {
    const live = session ? ctx.accounts.sessions.get(session) : undefined;
    if (!live) return oauthError('invalid_grant', 'the session has ended; sign in again');
    if (live.locked) return oauthError('invalid_grant', SESSION_LOCKED_DESCRIPTION);
  }
  const rotated = ctx.accounts.tokens.rotateRefresh(v.refresh_token, client.app.clientId);
  if (!rotated) return oauthError('invalid_grant', 'the refresh token is not valid for this client');
  const { grant } = rotated;
  const user = activeUser(ctx, grant.userId);
  if (!user) return oauthError('invalid_grant', 'the grant is no longer valid');
  // RFC 6749 6: the same scopes or fewer. The refresh token itself keeps the whole grant.
  const scope = v.scope === undefined ? grant.scope : narrowScopes(v.scope, grant.scope);
  if (!scope) return oauthError('invalid_scope', 'none of the requested scopes was granted');
  return userTokens(ctx, { app: client.app, user, scope, patient: grant.patient ?? undefined, refreshToken: rotated.refresh, origin, session });
}

async function clientCredentials(ctx: SmartContext, v: Values, tokenUrl: string): Promise<AuthResponse> {
  if (v.client_assertion === undefined) return oauthError('invalid_client', 'backend services authenticate with a signed client_assertion');
  const client = await authenticateClient(ctx, v, tokenUrl);
  if (!client.ok) return client.response;
  const { app } = client;
  if (!app.role) return oauthError('unauthorized_client', 'this client is not registered as a backend service');
  if (!v.scope) return oauthError('invalid_scope', 'scope is required');
  // Only system/ scopes mean anything without a user or a patient. What is asked is cut
  // down to the registration, then to what the service's role could use (SMART lets a
  // server grant less than asked; the response's `scope` says what was granted).
  const requested = v.scope.split(/\s+/).filter((s) => s.startsWith('system/')).join(' ');
  const role = ctx.accounts.users.roles().find((r) => r.name === app.role);
  const scope = narrowScopes(narrowScopes(requested, app.scope, ctx.deps.isResourceType), systemScopesOf(role?.permissions ?? []));
  if (!scope) return oauthError('invalid_scope', 'none of the requested system scopes is allowed for this client');
  const access = await ctx.accounts.tokens.issueAccess({ sub: `client:${app.clientId}`, client_id: app.clientId, scope }, BACKEND_TTL_S);
  return json(200, { access_token: access.token, token_type: 'Bearer', expires_in: BACKEND_TTL_S, scope });
}

export interface UserGrant {
  app: App;
  user: User;
  scope: string;
  patient: string | undefined;
  refreshToken: string | undefined;
  origin: string;
  /** The UI session the tokens belong to (`flint-ui` only). */
  session?: string | undefined;
}

/** The token response for a user's grant. The UI's access tokens are short and name their session. */
export async function userTokens(ctx: SmartContext, g: UserGrant): Promise<AuthResponse> {
  const other = parseScopes(g.scope).other;
  const fhirUser = other.has('fhirUser') && g.user.fhirUser ? g.user.fhirUser : undefined;
  const claims = { sub: g.user.id, client_id: g.app.clientId, scope: g.scope, patient: g.patient, fhirUser, ...(g.session ? { sid: g.session } : {}) };
  const access = await ctx.accounts.tokens.issueAccess(claims, g.session ? UI_ACCESS_TTL_S : undefined);
  const body: Record<string, unknown> = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.claims.exp - access.claims.iat,
    scope: g.scope,
  };
  if (g.patient) body.patient = g.patient;
  if (g.refreshToken) body.refresh_token = g.refreshToken;
  if (other.has('openid')) {
    const iss = smartUrls(g.origin).fhirBase;
    body.id_token = await ctx.idTokens.sign({ iss, aud: g.app.clientId, sub: g.user.id, ...(fhirUser ? { fhirUser } : {}) });
  }
  return json(200, body);
}

export function activeUser(ctx: SmartContext, id: string): User | undefined {
  const user = ctx.accounts.users.byId(id);
  return user && !user.disabled ? user : undefined;
}
