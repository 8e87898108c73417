/**
 * `flint-ui`: Flint's own UI as a first-party SMART client (docs/access-control.md, "The
 * UI's sign-in, lock and first run"). It is built in, not registered: a public client
 * (PKCE, no secret) whose only redirect URI is `<this server's origin>/callback`, which
 * depends on the port the server listens on. No registry row can stand in for it.
 */
import type { App } from './apps';

export const UI_CLIENT_ID = 'flint-ui';
/** The most the UI is granted; the user's roles still cap what its tokens do. */
export const UI_SCOPE = 'openid fhirUser offline_access user/*.cruds';
/** The UI refreshes silently, so its access tokens can be short. */
export const UI_ACCESS_TTL_S = 300;
/** A UI session (and so every refresh token of it) ends this long after the sign-in. */
export const UI_SESSION_MS = 12 * 3600_000;

/** Client ids that name Flint's own clients: never registered, revoked or overwritten. */
export const RESERVED_CLIENT_IDS: ReadonlySet<string> = new Set([UI_CLIENT_ID, 'flint-cli']);

/** The UI as the authorization server sees an app, for the server at `origin`. */
export function uiApp(origin: string): App {
  return {
    clientId: UI_CLIENT_ID,
    name: 'Flint',
    redirectUris: [`${origin}/callback`],
    origins: [origin],
    jwks: null,
    scope: UI_SCOPE,
    role: null,
    revoked: false,
  };
}
