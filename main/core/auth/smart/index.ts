/**
 * The SMART App Launch 2.x authorization server, transport-free like the FHIR router:
 * createAuthHandler(deps) gives `(AuthRequest) => Promise<AuthResponse>` for everything
 * under /auth. It never throws: an unexpected fault is a 500 that says nothing, and the
 * log gets stack locations only (a message might quote a username or a patient).
 */
import type { SmartContext } from './context';
import { authorize } from './authorize';
import { IdTokens } from './id-token';
import { introspect } from './introspect';
import { LoginFormTokens, PendingConsents } from './pending';
import { json, methodNotAllowed } from './responses';
import { revoke } from './revoke';
import { lock, unlock } from './session-lock';
import { token } from './token';
import type { AuthHandler, AuthRequest, AuthResponse, SmartDeps } from './types';

export type { AuthHandler, AuthRequest, AuthResponse, PatientChoice, SmartDeps } from './types';
export { capabilitySecurity, smartConfiguration, smartUrls, type SmartUrls } from './smart-configuration';

type Endpoint = (ctx: SmartContext, req: AuthRequest) => Promise<AuthResponse>;

const ENDPOINTS: Record<string, Endpoint> = {
  authorize,
  token,
  revoke,
  introspect,
  lock,
  unlock,
  jwks: async (ctx, req) => (req.method === 'GET' || req.method === 'HEAD' ? json(200, await ctx.idTokens.jwks()) : methodNotAllowed(['GET'])),
};

export function createAuthHandler(deps: SmartDeps): AuthHandler {
  const now = deps.now ?? Date.now;
  const ctx: SmartContext = {
    deps,
    accounts: deps.accounts,
    now,
    loginForms: new LoginFormTokens(now),
    pending: new PendingConsents(now),
    idTokens: new IdTokens(now),
  };
  const logFault = deps.logFault ?? (() => undefined);
  return async (req) => {
    const endpoint = req.path.length === 1 && Object.hasOwn(ENDPOINTS, req.path[0]!) ? ENDPOINTS[req.path[0]!]! : undefined;
    if (!endpoint) return json(404, { error: 'not_found', error_description: 'no such endpoint' });
    try {
      return await endpoint(ctx, req);
    } catch (e) {
      const err = e instanceof Error ? e : new Error('non-error thrown');
      logFault(`auth: unexpected ${err.name}: ${(err.stack ?? '').split('\n').slice(1, 6).join(' | ')}`);
      return json(500, { error: 'server_error', error_description: 'the server failed; try again' });
    }
  };
}
