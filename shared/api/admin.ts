/**
 * The shapes of /flint/admin (docs/flint-api.md), shared by the core that serves them and
 * the UI that shows them. Never a password hash, never a private key.
 */

/** One local user account, as `GET /flint/admin/users` lists it. */
export interface AdminUser {
  username: string;
  roles: string[];
  disabled: boolean;
  /** Set while the account is locked after repeated failed logins (ISO instant). */
  lockedUntil?: string;
  /** e.g. `Practitioner/123`. */
  fhirUser?: string;
  display?: string;
  /** Absent today: auth.db keeps a creation time the accounts service does not expose yet, and no last login. */
  createdAt?: string;
  lastLoginAt?: string;
}

/** `POST /flint/admin/users`. */
export interface NewUserRequest {
  username: string;
  password: string;
  roles: string[];
  fhirUser?: string;
}

/** `PATCH /flint/admin/users/{username}`: every member optional, at least one given. */
export interface UserChangeRequest {
  roles?: string[];
  disabled?: boolean;
  password?: string;
}

export interface AdminPermission {
  types: string[];
  interactions: string[];
}

export interface AdminRole {
  name: string;
  description: string;
  builtin: boolean;
  /** Administers users, apps and settings. */
  admin: boolean;
  permissions: AdminPermission[];
}

/** A registered SMART app or backend service. */
export interface AdminApp {
  clientId: string;
  name: string;
  redirectUris: string[];
  origins: string[];
  scope: string;
  /** The role a backend service acts with; null for public (user-facing) apps. */
  role: string | null;
  revoked: boolean;
  kind: 'public' | 'backend';
  /** Backend services: their public keys (private members are never stored or shown). */
  jwks?: { keys: Array<Record<string, unknown>> };
}

/** `POST /flint/admin/apps`: a public SMART app, or a backend service. */
export type NewAppRequest =
  | { name: string; redirectUris: string[]; scope: string; clientId?: string }
  | { name: string; jwks: { keys: Array<Record<string, unknown>> }; scope: string; role: string; clientId?: string };
