/** Who is calling: what the HTTP layer resolves a bearer token to, and what the guard decides on. */
import type { Permission } from './roles';
import type { ParsedScopes } from './scopes';

export interface Principal {
  /** A user id, `client:<client_id>` (backend service) or `cli:admin` (`flint token create`). */
  subject: string;
  username?: string;
  clientId: string;
  /** The token's scopes. */
  scopes: ParsedScopes;
  /** The token's scope string, as granted. */
  scope?: string;
  /** The names of the user's roles (or the service's role; `admin` for `flint token create`). */
  roles?: string[];
  /** The UI session the token belongs to (`flint-ui` tokens: auth/ui-sessions.ts). */
  sessionId?: string;
  /** The launch patient of patient/ scopes. */
  patient?: string;
  fhirUser?: string;
  /** The rights of the user's roles (or the service's role); scopes narrow them. */
  permissions: Permission[];
  admin: boolean;
  /** The access token's id, for revocation and audit. */
  tokenId: string;
}

/** The client id of tokens minted by `flint token create`. */
export const CLI_CLIENT_ID = 'flint-cli';
export const CLI_SUBJECT = 'cli:admin';
