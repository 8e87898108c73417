/**
 * Checking an authorization request (SMART standalone launch, RFC 6749 4.1.1 with PKCE,
 * RFC 7636). The order matters: until the client and its redirect URI are known good,
 * nothing may be sent to that URI (RFC 6749 4.1.2.1), so those problems become a page;
 * the rest go back to the app as `?error=...&state=...`.
 */
import type { Accounts } from '../accounts';
import { narrowScopes } from '../scopes';
import { clientApp } from './clients';
import { readParams } from './responses';
import { smartUrls } from './smart-configuration';

export const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'aud',
  'code_challenge',
  'code_challenge_method',
] as const;
export type AuthorizeParam = (typeof AUTHORIZE_PARAMS)[number];

export interface AuthorizeRequest {
  clientId: string;
  appName: string;
  redirectUri: string;
  state: string;
  challenge: string;
  /** The requested scopes the app may have (its registration), in request order. */
  scope: string;
  /** The parameters as received: carried through the login form in hidden fields. */
  values: Partial<Record<AuthorizeParam, string>>;
}

export type CheckedAuthorize =
  | { kind: 'ok'; request: AuthorizeRequest }
  /** The client or redirect URI is not trusted: show this, never redirect. */
  | { kind: 'page'; message: string }
  | { kind: 'redirect'; redirectUri: string; error: string; description: string; state?: string };

/** An S256 challenge is a base64url SHA-256: exactly 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 1024;
const MAX_SCOPE = 4096;

/** Whether `aud` names this server's FHIR base (a trailing slash is the same URL). */
export const isOurAudience = (aud: string, fhirBase: string): boolean => aud === fhirBase || aud === `${fhirBase}/`;

/** `origin`: this server's own (from the socket), which the FHIR base and the UI's redirect URI are on. */
export function checkAuthorize(source: URLSearchParams, accounts: Accounts, origin: string): CheckedAuthorize {
  const fhirBase = smartUrls(origin).fhirBase;
  const who = readParams(source, ['client_id', 'redirect_uri'] as const);
  if (!who.ok) return { kind: 'page', message: 'The app sent a malformed sign-in request.' };
  const v = who.values;
  const app = v.client_id ? clientApp(accounts, v.client_id, origin) : undefined;
  if (!app) return { kind: 'page', message: 'This app is not registered on this workstation.' };
  if (!v.redirect_uri || !app.redirectUris.includes(v.redirect_uri)) {
    return { kind: 'page', message: 'The app asked to return to an address it has not registered.' };
  }
  const redirectUri = v.redirect_uri;
  const fail = (error: string, description: string, state?: string): CheckedAuthorize => ({
    kind: 'redirect', redirectUri, error, description, ...(state === undefined ? {} : { state }),
  }); // prettier-ignore
  const read = readParams(source, AUTHORIZE_PARAMS);
  if (!read.ok) return fail('invalid_request', `${read.repeated} is repeated`);
  const { values } = read;
  const state = values.state;
  if (state !== undefined && state.length > MAX_STATE) return fail('invalid_request', 'state is too long');
  if (values.response_type !== 'code') {
    return values.response_type
      ? fail('unsupported_response_type', 'only response_type=code is supported', state)
      : fail('invalid_request', 'response_type is required', state);
  }
  if (state === undefined) return fail('invalid_request', 'state is required');
  if (!values.aud || !isOurAudience(values.aud, fhirBase)) return fail('invalid_request', "aud must be this server's FHIR base URL", state);
  if (!values.code_challenge) return fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256', state);
  // A missing method means `plain` (RFC 7636 4.3), which SMART 2 forbids.
  if (values.code_challenge_method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256', state);
  if (!S256_CHALLENGE.test(values.code_challenge)) return fail('invalid_request', 'code_challenge is not an S256 challenge', state);
  if (!values.scope || values.scope.length > MAX_SCOPE) return fail('invalid_scope', 'scope is required', state);
  // system/ scopes belong to backend services (client_credentials), never to a user's grant.
  const userScopes = values.scope.split(/\s+/).filter((s) => s && !s.startsWith('system/')).join(' ');
  const scope = narrowScopes(userScopes, app.scope);
  if (!scope) return fail('invalid_scope', 'none of the requested scopes is allowed for this app', state);
  return {
    kind: 'ok',
    request: { clientId: app.clientId, appName: app.name, redirectUri, state, challenge: values.code_challenge, scope, values },
  };
}
