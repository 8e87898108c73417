/**
 * The audit trail the rest of the core records through (AuditRecorder): turns access
 * and security records into BALP AuditEvents and appends them to the chained log. The
 * log groups concurrent appends into one write; each caller waits for its own.
 */
import { accessEvent, securityEvent, syncEvent } from './audit-event';
import type { AuditLog } from './audit-log';
import type { AuditRecorder } from './recorder';
import type { AccessRecord, SecurityRecord, SyncRecord } from './types';

export class AuditTrail implements AuditRecorder {
  constructor(
    private readonly log: AuditLog,
    private readonly workstationId: string,
    private readonly baseUrl: () => string | undefined = () => undefined,
  ) {}

  async record(records: ReadonlyArray<AccessRecord | SecurityRecord | SyncRecord>): Promise<void> {
    if (records.length === 0) return;
    const base = this.baseUrl();
    const source = base ? { workstationId: this.workstationId, baseUrl: base } : { workstationId: this.workstationId };
    await this.log.write(
      records.map((r) => ('kind' in r ? securityEvent(r, source) : 'sync' in r ? syncEvent(r, source) : accessEvent(r, source))),
    );
  }
}
