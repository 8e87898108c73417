/** What the FHIR router and the auth server need from the audit trail: record, or fail. */
import type { AccessRecord, SecurityRecord, SyncRecord } from './types';

export interface AuditRecorder {
  /** Resolves once the records are stored; rejects if they cannot be (callers fail closed). */
  record(records: ReadonlyArray<AccessRecord | SecurityRecord | SyncRecord>): Promise<void>;
}
