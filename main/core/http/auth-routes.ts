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

export async function serveAuth(req: IncomingMessage, url: URL, ctx: AuthContext): Promise<AuthResponse> {
  try {
    const method = req.method ?? 'GET';
    const path = authPath(url.pathname);
    if (!path) return oauthError(400, 'invalid_request', 'The URL path is not validly percent-encoded');
    if (isLimited(method, path)) {
      const wait = ctx.limiter.take(`${path.join('/')} ${ctx.client}`);
      if (wait > 0) return oauthError(429, 'temporarily_unavailable', `Too many requests; retry in ${wait} s`, { 'Retry-After': String(wait) });
    }
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
    return await ctx.handler(authReq);
  } catch (e) {
    if (e instanceof FhirError) return oauthError(e.status, 'invalid_request', e.message);
    toResponse(e, ctx.logFault); // logs where it failed, never the message
    return oauthError(500, 'server_error', 'Internal server error; the request was not completed');
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
