/**
 * CORS: other programs' web pages may not read this server, except the registered apps
 * (their redirect URIs' origins). Tokens travel as bearer headers, never cookies, so
 * credentials mode is never offered.
 */
import type { IncomingMessage } from 'node:http';
import { forbidden } from '../../../shared/fhir/outcome';

export type OriginCheck =
  /** No Origin (not a browser, or a same-origin GET) or our own origin: no CORS headers. */
  | { kind: 'same' }
  | { kind: 'allowed'; origin: string }
  | { kind: 'denied' };

export const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
export const ALLOWED_HEADERS =
  'Authorization, Content-Type, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Accept';
export const EXPOSED_HEADERS = 'ETag, Location, Last-Modified, Content-Location';
/** Seconds a browser may cache a preflight; short, so a revoked app loses access soon. */
export const PREFLIGHT_MAX_AGE = '600';

/** `host` is the already checked Host header: our origin as the client addressed us. */
export function checkOrigin(req: IncomingMessage, host: string, allowed: () => ReadonlySet<string>): OriginCheck {
  const values = req.headersDistinct.origin;
  if (!values) return { kind: 'same' };
  if (values.length !== 1) return { kind: 'denied' };
  const origin = values[0]!;
  if (origin.toLowerCase() === `http://${host}`) return { kind: 'same' };
  // `null` (sandboxed frames, file: pages, no-referrer form posts) is never registered.
  return allowed().has(origin) ? { kind: 'allowed', origin } : { kind: 'denied' };
}

export const originDenied = () => forbidden('Cross-origin requests are allowed from registered apps only');

export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
}

/** Headers of every response to an allowed cross-origin request, errors included. */
export function corsHeaders(check: OriginCheck): Record<string, string> {
  if (check.kind !== 'allowed') return {};
  return { 'Access-Control-Allow-Origin': check.origin, Vary: 'Origin', 'Access-Control-Expose-Headers': EXPOSED_HEADERS };
}

export function preflightHeaders(req: IncomingMessage, check: OriginCheck & { kind: 'allowed' }): Record<string, string> {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': check.origin,
    Vary: 'Origin',
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': PREFLIGHT_MAX_AGE,
  };
  // Chrome's Private Network Access: a registered app served from a public origin
  // must be told explicitly that it may talk to this loopback server.
  if (req.headers['access-control-request-private-network'] === 'true') headers['Access-Control-Allow-Private-Network'] = 'true';
  return headers;
}
