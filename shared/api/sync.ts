/**
 * The shapes of /flint/sync and /flint/conflicts (docs/flint-api.md), shared by the core
 * that serves them and the UI that shows them.
 */

export type SyncState = 'offline' | 'connecting' | 'active' | 'idle' | 'paused' | 'error';

export interface SyncStatus {
  configured: boolean;
  state: SyncState;
  /** The clinic database (no credentials). */
  remote?: string;
  /** Local changes not yet sent. */
  pending: number;
  /** AuditEvents of this workstation not yet on the central audit database (known after the first audit push). */
  auditPending: number;
  /** When sync last completed a round with the server (ISO). */
  lastSync?: string;
  /** Documents sent and received since the server started. */
  sent: number;
  received: number;
  quarantined: number;
  /** Entries of GET /flint/conflicts: open conflicts and possible duplicate patients. */
  conflicts: number;
  /** What is going on, in words a receptionist understands. */
  message: string;
  /** The last error, in the same words; absent once sync works again. */
  lastError?: string;
  /**
   * Present while the pull catches up with more than 500 documents to go (the first sync of
   * this computer, or after a long time away); absent when it is up to date. `received`: the
   * documents (resources and their versions) received or found here already in this
   * catch-up; `total`: about how many it holds, from the server's counts (docs/sync.md,
   * "Status"). Updated a few times a second at most.
   */
  pull?: { received: number; total?: number };
}

/** One entry of GET /flint/conflicts. */
export interface ConflictEntry {
  type: string;
  id: string;
  kind: 'edit' | 'delete' | 'duplicate';
  /** The version every replica serves now (the CouchDB winner). */
  current: string;
  /** Every version in conflict, the current one included. */
  versions: string[];
  /** For duplicates: the other Patients sharing the identifier. */
  duplicates?: string[];
  identifier?: { system: string; value: string };
}
