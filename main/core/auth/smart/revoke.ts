/**
 * POST /auth/revoke (RFC 7009). Always 200: whether a token existed, was already
 * revoked or was never ours is not the caller's business, and a client that lost track
 * of a token must still be able to throw it away.
 */
import { sessionOfRefresh } from '../tokens';
import type { SmartContext } from './context';
import { isForm } from './token';
import { methodNotAllowed } from './responses';
import type { AuthRequest, AuthResponse } from './types';

const MAX_TOKEN = 4096;

export async function revoke(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  if (req.method !== 'POST') return methodNotAllowed(['POST']);
  const token = isForm(req) ? req.form!.get('token') : null;
  if (token && token.length <= MAX_TOKEN) {
    const clientId = req.form!.get('client_id');
    const claims = await ctx.accounts.tokens.verifyAccess(token);
    // An access token names its client: a client may not revoke another's. (Refresh
    // tokens are opaque here; holding one is the only proof there is.)
    if (!claims || !clientId || claims.client_id === clientId) {
      const kind = await ctx.accounts.tokens.revoke(token);
      // Signing out of the UI: revoking its refresh token ends its session, whose access
      // tokens then stop at once rather than when they expire.
      const session = kind === 'refresh' ? sessionOfRefresh(token) : undefined;
      if (session) ctx.accounts.sessions.end(session);
    }
  }
  return { status: 200, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } };
}
