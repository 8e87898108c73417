/**
 * Response builders shared by the endpoints. Everything the server answers is about
 * credentials, so nothing may be cached (RFC 6749 5.1), and nothing may be framed.
 */
import type { AuthResponse } from './types';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): AuthResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...NO_STORE, 'X-Content-Type-Options': 'nosniff', ...headers },
    body: JSON.stringify(body),
  };
}

/** RFC 6749 5.2 error codes, plus RFC 7009/7662 use of the same shape. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type';

/** An error answer of the token-style endpoints. The description is fixed text, never request content. */
export function oauthError(code: OAuthErrorCode, description: string, status = code === 'invalid_client' ? 401 : 400): AuthResponse {
  const r = json(status, { error: code, error_description: description });
  // A client that failed to authenticate, or a code or refresh token that is not valid.
  if (code === 'invalid_client' || code === 'invalid_grant') r.authFailed = true;
  return r;
}

/** The CSP of every HTML page: no scripts at all, forms may post only to this origin. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/**
 * Chrome and Safari check `form-action` against where a form submission is redirected
 * too (w3c/webappsec-csp#8), and the sign-in forms end in a 302 to the app. So a page
 * shown for a checked request also admits the origin (or, for a custom scheme, the
 * scheme) of its redirect URI, which is registered and matched exactly: nothing else.
 */
export function pageCsp(redirectUri?: string): string {
  if (!redirectUri) return PAGE_CSP;
  const url = new URL(redirectUri);
  const source = url.origin !== 'null' ? url.origin : url.protocol;
  return PAGE_CSP.replace("form-action 'self'", `form-action 'self' ${source}`);
}

export function html(status: number, body: string, redirectUri?: string): AuthResponse {
  return {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': pageCsp(redirectUri),
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      // The authorize URL carries state and the PKCE challenge: no Referer leaves this
      // origin. Not no-referrer: under it a browser posts the forms with `Origin: null`,
      // which an origin check in front of this handler must refuse.
      'Referrer-Policy': 'same-origin',
      ...NO_STORE,
    },
    body,
  };
}

/** A 302 to a trusted (registered, exactly matched) redirect URI with `params` added. */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): AuthResponse {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return { status: 302, headers: { Location: url.href, ...NO_STORE, 'Referrer-Policy': 'same-origin' } };
}

export function methodNotAllowed(allowed: string[]): AuthResponse {
  return json(405, { error: 'invalid_request', error_description: 'method not allowed' }, { Allow: allowed.join(', ') });
}

/**
 * The named parameters, one value each. RFC 6749 3.1: parameters must not repeat, and a
 * repeated one is refused rather than guessed at. Empty values count as absent.
 */
export function readParams<N extends string>(
  source: URLSearchParams | undefined,
  names: readonly N[],
): { ok: true; values: Partial<Record<N, string>> } | { ok: false; repeated: N } {
  const values: Partial<Record<N, string>> = {};
  for (const name of names) {
    const all = source?.getAll(name) ?? [];
    if (all.length > 1) return { ok: false, repeated: name };
    if (all[0]) values[name] = all[0];
  }
  return { ok: true, values };
}
