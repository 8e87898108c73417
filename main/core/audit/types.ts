/**
 * What the audit trail records (docs/audit.md): one AccessRecord per FHIR interaction
 * (and per Bundle entry), one SecurityRecord per security event. The builder turns them
 * into R4 AuditEvents after IHE BALP; the log chains and stores them.
 */
import type { AuditEvent } from '@medplum/fhirtypes';

/** Who acted, as far as known (an unauthenticated caller has only an address). */
export interface AuditAgent {
  /** Local user id and name, when a user acted. */
  userId?: string;
  username?: string;
  /** `Practitioner/123` etc., when the user has one. */
  fhirUser?: string;
  /** The SMART client (or `flint-cli`). */
  clientId?: string;
  /** The peer address of the request, e.g. 127.0.0.1. */
  address?: string;
}

export type RestInteraction =
  | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'history-system'
  | 'create' | 'search-type' | 'search-system' | 'search-compartment' | 'batch' | 'transaction' | 'capabilities' | 'operation'; // prettier-ignore

export interface AccessRecord {
  interaction: RestInteraction;
  /** `$everything`, `$validate`, `$reindex` for interaction 'operation'. */
  operation?: string;
  /** The resource type addressed, when there is one. */
  type?: string;
  id?: string;
  /** The version read or written. */
  vid?: string;
  /** The query string of a search (without _cursor), for entity.query. */
  query?: string;
  /** The HTTP status answered. */
  status: number;
  agent: AuditAgent;
  /** Patients whose data was read or written (ids), for the patient entities. */
  patients: string[];
  /** Index of the entry inside a Bundle, when this records one entry. */
  bundleEntry?: number;
  /** Counts of what a bulk operation did (`$import`: read, written, unchanged, refused). */
  counts?: Record<string, number>;
  recorded: Date;
}

export type SecurityKind =
  | 'login-success' | 'login-failure' | 'logout' | 'lockout' | 'token-issued' | 'token-refreshed' | 'token-revoked'
  | 'app-registered' | 'app-revoked' | 'user-changed' | 'role-changed' | 'settings-changed'; // prettier-ignore

export interface SecurityRecord {
  kind: SecurityKind;
  /** success, or failure (login failures, refused token requests). */
  ok: boolean;
  agent: AuditAgent;
  /** What it was about: `user:<username>`, `app:<client_id>`, `role:<name>`. Never a password or token. */
  subject?: string;
  detail?: string;
  recorded: Date;
}

/**
 * One applied pull batch, one push batch, a quarantined arrival or a resolved conflict
 * (docs/sync.md). Counts, the server and resource references only: no content.
 */
export interface SyncRecord {
  sync: 'import' | 'export' | 'quarantine';
  /** Documents in the batch (versions, heads, closed branches). */
  count: number;
  /** The remote database URL (never credentials). */
  remote: string;
  ok: boolean;
  /** `Type/id/_history/vid` of what was quarantined. */
  what?: string;
  /** Why it failed (no PHI: element paths and rule names). */
  detail?: string;
  recorded: Date;
}

/** The AuditEvent as stored: content plus its place in the workstation's hash chain. */
export interface StoredEvent {
  /** `<workstationId>-<seq>`: unique across workstations (central database later). */
  id: string;
  seq: number;
  /** Hash of the previous event of this workstation ('' for the first). */
  prev: string;
  /** sha256(prev + canonical JSON of the event). */
  hash: string;
  event: AuditEvent;
}
