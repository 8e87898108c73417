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
