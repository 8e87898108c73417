/**
 * Who is asking at the token endpoint. Public clients name themselves (client_id) and
 * prove nothing here: PKCE and the exact redirect URI protect their codes. Clients with
 * a registered JWKS are confidential and must sign a client assertion (private_key_jwt,
 * RFC 7523, SMART asymmetric client authentication): RS384 or ES384, iss = sub =
 * client_id, aud = this token endpoint, exp at most five minutes ahead, jti used once.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { App } from '../apps';
import { clientApp } from './clients';
import type { SmartContext } from './context';
import { oauthError } from './responses';
import { ASSERTION_ALGORITHMS } from './smart-configuration';
import type { AuthResponse } from './types';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const MAX_ASSERTION_LIFETIME_S = 300;

export interface ClientCredentials {
  client_id?: string;
  client_assertion_type?: string;
  client_assertion?: string;
}

export type ClientAuth = { ok: true; app: App; asserted: boolean } | { ok: false; response: AuthResponse };

const refuse = (description: string): ClientAuth => ({ ok: false, response: oauthError('invalid_client', description) });

export async function authenticateClient(ctx: SmartContext, c: ClientCredentials, tokenUrl: string): Promise<ClientAuth> {
  if (c.client_assertion === undefined && c.client_assertion_type === undefined) {
    if (!c.client_id) return { ok: false, response: oauthError('invalid_request', 'client_id is required') };
    const app = clientApp(ctx.accounts, c.client_id, new URL(tokenUrl).origin);
    if (!app) return refuse('unknown client');
    if (app.jwks) return refuse('this client authenticates with a signed client assertion (private_key_jwt)');
    return { ok: true, app, asserted: false };
  }
  if (c.client_assertion_type !== JWT_BEARER) return refuse(`client_assertion_type must be ${JWT_BEARER}`);
  if (!c.client_assertion) return refuse('client_assertion is required');
  return verifyAssertion(ctx, c.client_assertion, c.client_id, tokenUrl);
}

async function verifyAssertion(ctx: SmartContext, assertion: string, claimedId: string | undefined, tokenUrl: string): Promise<ClientAuth> {
  let clientId: string | undefined;
  try {
    // Unverified: only to find which registered keys to verify with.
    const iss = decodeJwt(assertion).iss;
    clientId = claimedId ?? (typeof iss === 'string' ? iss : undefined);
    // Keys come from the registration only: an assertion pointing at keys elsewhere
    // (a JWKS URL, an embedded key or certificate) is refused, not followed.
    const header = decodeProtectedHeader(assertion);
    if (header.jku !== undefined || header.jwk !== undefined || header.x5u !== undefined) {
      return refuse('the client assertion names keys outside its registration (jku, jwk or x5u)');
    }
  } catch {
    return refuse('the client assertion is not a JWT');
  }
  const app = clientId ? ctx.accounts.apps.active(clientId) : undefined;
  if (!app || !app.jwks) return refuse('unknown client, or one without registered keys');
  let exp: number | undefined;
  let jti: unknown;
  try {
    const keys = createLocalJWKSet(app.jwks as unknown as JSONWebKeySet);
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: [...ASSERTION_ALGORITHMS],
      issuer: app.clientId,
      subject: app.clientId,
      audience: tokenUrl,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(ctx.now()),
    });
    exp = payload.exp;
    jti = payload.jti;
  } catch (e) {
    if (e instanceof errors.JWTExpired) return refuse('the client assertion has expired');
    if (e instanceof errors.JOSEError) return refuse('the client assertion is not valid for this client and server');
    throw e;
  }
  if (exp === undefined || exp * 1000 > ctx.now() + MAX_ASSERTION_LIFETIME_S * 1000) {
    return refuse('the client assertion must expire within five minutes');
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) return refuse('the client assertion needs a jti');
  // Scoped by client: two services may pick the same jti without stepping on each other.
  if (!ctx.accounts.tokens.useAssertionId(`${app.clientId}:${jti}`, exp * 1000)) return refuse('the client assertion was already used');
  return { ok: true, app, asserted: true };
}
