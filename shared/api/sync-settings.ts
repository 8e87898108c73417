/** The shapes of /flint/sync/settings (docs/flint-api.md), shared by the core and the UI. */

/** `GET /flint/sync/settings`: never the password. */
export interface SyncSettingsView {
  configured: boolean;
  remote?: string;
  username?: string;
  /** The central audit database (default: `<remote>-audit` on the same server). */
  auditRemote?: string;
  paused?: boolean;
  maxRetryDelaySeconds?: number;
  /** Whether a private CA is trusted for this server. */
  customCa?: boolean;
}

/** `PUT /flint/sync/settings`: what `flint sync configure` takes. */
export interface SyncSettingsRequest {
  remote: string;
  username: string;
  password: string;
  /** A PEM certificate of the clinic's private CA, to trust besides the system's. */
  caPem?: string;
  auditRemote?: string;
  maxRetryDelaySeconds?: number;
}
