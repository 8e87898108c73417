/** The shapes of /flint/session and /flint/settings (docs/access-control.md), shared by the core and the UI. */

export interface SessionPermission {
  /** Resource types, or ['*'] for every type (never AuditEvent, which roles name). */
  types: string[];
  interactions: string[];
}

/** `GET /flint/session`: who the caller is and what it may do. */
export interface SessionInfo {
  /** The user's name; for a token without a user, its subject (`cli:admin`, `client:<id>`). */
  username: string;
  roles: string[];
  admin: boolean;
  fhirUser?: string;
  clientId: string;
  scopes: string[];
  /** The roles' permissions narrowed by the token's scopes. */
  permissions: SessionPermission[];
  idleLockMinutes: number;
  workstationId: string;
  version: string;
}

/** `GET|PUT /flint/settings`. */
export interface UiSettings {
  /** Minutes without input before the UI locks the session (1..240, default 15). */
  idleLockMinutes: number;
}

/**
 * The `error_description` of the `invalid_grant` that `/auth/token` answers for a refresh
 * token of a locked UI session (an ended session gets another text). The UI tells the two
 * apart by it: a locked session opens on the lock screen, an ended one on the sign-in.
 */
export const SESSION_LOCKED_DESCRIPTION = 'the session is locked; unlock it with the password';
