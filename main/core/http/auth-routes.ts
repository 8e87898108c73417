/**
 * The transport side of /auth/*: rate limits, form bodies and OAuth-style errors. What
 * the endpoints do is the auth handler's business (main/core/auth/smart/).
 */
import type { IncomingMessage } from 'node:http';
import { FhirError, unsupportedMediaType } from '../../../shared/fhir/outcome';
import { toResponse, type FaultLogger } from '../fhir/router';
import type { RateLimiter } from './rate-limit';
import { FORM_TYPE, mediaType, readBody } from './read-body';

// The transport-free shapes of the SMART authorization server, which this adapts to.
export type { AuthHandler, AuthRequest, AuthResponse } from '../auth/smart/types';
import type { AuthHandler, AuthRequest, AuthResponse } from '../auth/smart/types';

export const AUTH_PREFIX = '/auth';

/** The endpoints where a client authenticates itself (RFC 6749 2.3, RFC 7009, RFC 7662). */
const CLIENT_AUTH_PATHS: ReadonlySet<string> = new Set(['token', 'introspect', 'revoke']);

/** Forms carry a few parameters and perhaps a signed client assertion: never megabytes. */
export const MAX_FORM_BYTES = 64 * 1024;

/** The endpoints that check a password, a code, a token or a client credential. */
export function isLimited(method: string, path: readonly string[]): boolean {
  const p = path.join('/');
  return (p === 'authorize' && method === 'POST') || ['token', 'introspect', 'revoke', 'lock', 'unlock'].includes(p);
}

export function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): AuthResponse {
  return {
    status,
    headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error, error_description: description }),
  };
}

export interface AuthContext {
  handler: AuthHandler;
  origin: string;
  maxBodyBytes: number;
  limiter: RateLimiter;
  client: string;
  logFault: FaultLogger;
}

/**
 * The rate limits count failed authentications only (a wrong client assertion or secret,
 * password, code or refresh token: AuthResponse.authFailed), per caller address and, for a
 * client that authenticates itself, per client; a signed client assertion counts against
 * its client only (it cannot be guessed, and loopback is every local program's address).
 * A client that authenticates correctly is never held back by its own traffic. As for bearer tokens (bearer.ts), each attempt takes
 * one up front and a successful one gives it back, so concurrent guesses cannot overshoot;
 * while a bucket is empty attempts are refused unchecked, with 429 and Retry-After.
 */
export async function serveAuth(req: IncomingMessage, url: URL, ctx: AuthContext): Promise<AuthResponse> {
  const taken: string[] = [];
  try {
    const method = req.method ?? 'GET';
    const path = authPath(url.pathname);
    if (!path) return oauthError(400, 'invalid_request', 'The URL path is not validly percent-encoded');
    const authReq: AuthRequest = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers as Record<string, string | undefined>,
      origin: ctx.origin,
    };
    if (method !== 'GET' && method !== 'HEAD') {
      const form = await readForm(req, Math.min(ctx.maxBodyBytes, MAX_FORM_BYTES));
      if (form) authReq.form = form;
    }
    if (isLimited(method, path)) {
      const client = authenticatingClient(authReq);
      // A signed client assertion cannot be guessed: its failures count against its client
      // only, so one failing local program does not lock the others on loopback out.
      // Secrets, passwords, codes and refresh tokens count per address too.
      // Only where a client authenticates itself (token, introspect, revoke): elsewhere a
      // stray client_assertion field is not what is checked (a password is) and changes nothing.
      const signedClient = client?.signed && CLIENT_AUTH_PATHS.has(path.join('/'));
      const keys = signedClient ? [`client ${client!.id}`] : [`address ${ctx.client}`, ...(client ? [`client ${client.id}`] : [])];
      let wait = 0;
      for (const key of keys) {
        const w = ctx.limiter.take(key);
        if (w > 0) wait = Math.max(wait, w);
        else taken.push(key);
      }
      if (wait > 0) {
        for (const key of taken) ctx.limiter.refund(key); // refused unchecked: it counts nowhere
        return tooManyFailures(path, wait);
      }
    }
    const res = await ctx.handler(authReq);
    if (!res.authFailed) for (const key of taken) ctx.limiter.refund(key);
    return res;
  } catch (e) {
    if (e instanceof FhirError) return oauthError(e.status, 'invalid_request', e.message);
    toResponse(e, ctx.logFault); // logs where it failed, never the message
    return oauthError(500, 'server_error', 'Internal server error; the request was not completed');
  }
}

/**
 * 429 with Retry-After and an RFC 6749 error object: `invalid_client` where RFC 6749 5.2
 * (and RFC 7009/7662 after it) defines the errors, `temporarily_unavailable` on the
 * authorization endpoint (RFC 6749 4.1.2.1) and Flint's lock and unlock.
 */
function tooManyFailures(path: readonly string[], wait: number): AuthResponse {
  const code = CLIENT_AUTH_PATHS.has(path.join('/')) ? 'invalid_client' : 'temporarily_unavailable';
  return oauthError(429, code, `Too many failed authentications from this address or for this client; retry in ${wait} s`, { 'Retry-After': String(wait) });
}

/**
 * The client a request authenticates, if it authenticates one: the issuer of a client
 * assertion (read, not verified: only a bucket's name) or the user of HTTP Basic. Public
 * clients (a client_id alone, Flint's UI among them) are many users under one id: counted
 * by address only.
 */
function authenticatingClient(req: AuthRequest): { id: string; signed: boolean } | undefined {
  const assertion = req.form?.get('client_assertion');
  if (assertion) {
    try {
      const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
      if (typeof claims.iss === 'string' && claims.iss.length <= 256) return { id: claims.iss, signed: true };
    } catch {
      // unreadable: the handler refuses it; counted by address
    }
    return undefined;
  }
  const basic = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(req.headers.authorization ?? '');
  if (!basic) return undefined;
  const user = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? '';
  return user && user.length <= 256 ? { id: decodeURIComponentSafe(user), signed: false } : undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function authPath(pathname: string): string[] | undefined {
  const rest = pathname.slice(AUTH_PREFIX.length).replace(/^\/+|\/+$/g, '');
  if (rest === '') return [];
  try {
    return rest.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams | undefined> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  const mt = mediaType(req.headers['content-type']);
  if (mt?.type !== FORM_TYPE) throw unsupportedMediaType('Send the parameters as application/x-www-form-urlencoded');
  if (mt.charset && mt.charset !== 'utf-8' && mt.charset !== 'utf8') throw unsupportedMediaType('Only UTF-8 forms are accepted');
  return new URLSearchParams(raw.toString('utf8'));
}
