/**
 * Bearer authentication of FHIR requests (RFC 6750). Everything needs a valid access
 * token except what a client must read before it has one: the CapabilityStatement and
 * the SMART configuration. Failed attempts are capped so tokens cannot be guessed fast.
 */
import { tooManyRequests, unauthorized } from '../../../shared/fhir/outcome';
import type { Principal } from '../auth/principal';
import { respond, type FhirResponse } from '../fhir/types';
import type { RateLimiter } from './rate-limit';

export type Authenticate = (token: string) => Promise<Principal | undefined>;

export type BearerResult = { principal: Principal } | { response: FhirResponse };

/** `path` as the router sees it (segments after /fhir, decoded). */
export function isPublic(method: string, path: readonly string[]): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const p = path.join('/');
  return p === 'metadata' || p === '.well-known/smart-configuration';
}

// b64token (RFC 6750 2.1): what a JWT or an opaque token is made of.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

type Parsed = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string };

export function parseAuthorization(header: string | undefined): Parsed {
  if (header === undefined || !/^bearer(\s|$)/i.test(header)) return { kind: 'none' };
  const m = BEARER.exec(header);
  return m ? { kind: 'token', token: m[1]! } : { kind: 'malformed' };
}

const REALM = 'Bearer realm="flint"';

/**
 * A request without credentials (or with another scheme) gets no error code, one with
 * a bad bearer token gets `invalid_token` (RFC 6750 3.1). Neither echoes the token.
 */
function challenge(tokenGiven: boolean): FhirResponse {
  const e = tokenGiven
    ? unauthorized('The access token is invalid, expired or revoked')
    : unauthorized('This request needs an access token: Authorization: Bearer <token>');
  return respond(e.status, e.outcome, { 'WWW-Authenticate': tokenGiven ? `${REALM}, error="invalid_token"` : REALM });
}

/**
 * Each presented token takes one from the caller's failure bucket up front, and a valid
 * one gives it back: concurrent guesses cannot overshoot the cap. While the bucket is
 * empty every token is refused unchecked, so the answer says nothing about the token.
 */
export async function authenticateBearer(
  header: string | undefined,
  authenticate: Authenticate,
  failures: RateLimiter,
  client: string,
): Promise<BearerResult> {
  const parsed = parseAuthorization(header);
  if (parsed.kind === 'none') return { response: challenge(false) };
  const wait = failures.take(client);
  if (wait > 0) {
    const e = tooManyRequests('Too many failed authentications; retry later');
    return { response: respond(e.status, e.outcome, { 'Retry-After': String(wait) }) };
  }
  if (parsed.kind === 'malformed') return { response: challenge(true) };
  const principal = await authenticate(parsed.token);
  if (!principal) return { response: challenge(true) };
  failures.refund(client);
  return { principal };
}
