/**
 * The observable sync state (docs/sync.md, "Status"): one rxjs BehaviorSubject the engine
 * updates and the HTTP layer, the UI and the status file read. Messages are written for
 * the front desk, not for engineers, and never hold PHI or credentials.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { distinctUntilChanged, map } from 'rxjs/operators';

export type { SyncState, SyncStatus } from '../../../shared/api/sync';
import type { SyncState, SyncStatus } from '../../../shared/api/sync';

export const MESSAGES = {
  notConfigured: 'Sync is not set up on this computer. Everything is saved here; an administrator can connect it to the clinic server.',
  noPassword: 'Sync is set up but the password for the clinic server is missing on this computer. Ask an administrator to enter it again.',
  connecting: 'Connecting to the clinic server…',
  active: 'Sending and receiving changes with the clinic server…',
  idle: 'Up to date with the clinic server.',
  paused: 'Sync is paused. Everything is saved on this computer and will be sent when sync is resumed.',
  offline: 'The clinic server cannot be reached. You can keep working: everything is saved on this computer and will be sent when the connection is back.',
  denied: 'The clinic server refused this computer’s sign-in. Ask an administrator to check the sync user name and password.',
  missingDb: 'The clinic server does not have this clinic’s database. Ask an administrator to run the server setup.',
  certificate: 'The clinic server’s security certificate is not trusted on this computer. Ask an administrator.',
  serverError: 'The clinic server had a problem. Sync will try again by itself.',
  settings: 'The sync settings on this computer are damaged. Ask an administrator to set sync up again.',
  caFile: 'The clinic server’s certificate file (the CA file in the sync settings) cannot be read on this computer. Ask an administrator.',
} as const;

export const INITIAL_STATUS: SyncStatus = {
  configured: false,
  state: 'offline',
  pending: 0,
  auditPending: 0,
  sent: 0,
  received: 0,
  quarantined: 0,
  conflicts: 0,
  message: MESSAGES.notConfigured,
};

export class SyncStatusSubject {
  private readonly subject = new BehaviorSubject<SyncStatus>(INITIAL_STATUS);

  get value(): SyncStatus {
    return this.subject.value;
  }

  /** Every distinct status, starting with the current one. */
  get changes(): Observable<SyncStatus> {
    return this.subject.pipe(
      map((s) => ({ s, key: JSON.stringify(s) })),
      distinctUntilChanged((a, b) => a.key === b.key),
      map(({ s }) => s),
    );
  }

  update(patch: Partial<SyncStatus>): void {
    const next = { ...this.subject.value, ...patch };
    for (const k of Object.keys(patch) as Array<keyof SyncStatus>) if (patch[k] === undefined) delete next[k];
    this.subject.next(next);
  }

  complete(): void {
    this.subject.complete();
  }
}

/** While a pull catches up: how far it is, e.g. "Receiving the clinic’s records: 12,400 of about 100,000…". */
export function receivingMessage(p: { received: number; total?: number }): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const of = p.total !== undefined ? ` of about ${n(Math.max(p.total, p.received))}` : ' so far';
  return `Receiving the clinic’s records: ${n(p.received)}${of}…`;
}

/** Classifies a replication or HTTP failure into a state and a message. */
export function describeFailure(e: unknown): { state: SyncState; message: string } {
  const err = e as { status?: number; code?: string; name?: string; cause?: { code?: string }; type?: string; message?: string; reason?: string };
  const status = typeof err.status === 'number' ? err.status : 0;
  const code = err.code ?? err.cause?.code ?? '';
  if (status === 401 || status === 403) return { state: 'error', message: MESSAGES.denied };
  if (status === 404) return { state: 'error', message: MESSAGES.missingDb };
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) return { state: 'error', message: MESSAGES.certificate };
  if (status >= 500) return { state: 'error', message: MESSAGES.serverError };
  return { state: 'offline', message: MESSAGES.offline };
}
