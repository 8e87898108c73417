/**
 * POST /auth/introspect (RFC 7662), for administrators' tools: the caller must present
 * an admin's access token. A token is active while it verifies and its user or app is
 * still active, exactly what the FHIR endpoint would accept. Refresh tokens are stored
 * as hashes and only the token service can look one up by rotating it, so they
 * introspect as inactive.
 */
import type { SmartContext } from './context';
import { json, methodNotAllowed, oauthError } from './responses';
import { isForm } from './token';
import type { AuthRequest, AuthResponse } from './types';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export async function introspect(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  if (req.method !== 'POST') return methodNotAllowed(['POST']);
  const m = BEARER.exec(req.headers.authorization ?? '');
  const caller = m ? await ctx.accounts.authenticate(m[1]!) : undefined;
  if (!caller?.admin) {
    return json(401, { error: 'invalid_token', error_description: 'introspection needs an administrator token' }, {
      'WWW-Authenticate': 'Bearer realm="flint", error="invalid_token"',
    });
  }
  const tokens = isForm(req) ? req.form!.getAll('token') : [];
  if (tokens.length !== 1 || !tokens[0]) return oauthError('invalid_request', 'token is required, once');
  const token = tokens[0];
  const claims = await ctx.accounts.tokens.verifyAccess(token);
  if (!claims || !(await ctx.accounts.authenticate(token))) return json(200, { active: false });
  const body: Record<string, unknown> = {
    active: true,
    token_type: 'Bearer',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
  };
  if (claims.patient) body.patient = claims.patient;
  if (claims.fhirUser) body.fhirUser = claims.fhirUser;
  return json(200, body);
}
