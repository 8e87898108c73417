/**
 * Central audit push: a workstation's chained AuditEvents go, push-only, to the audit
 * database on the server (e.g. `clinic-audit` beside `clinic`), where every
 * workstation's chain sits side by side and verifies on its own
 * (audit-remote-verify.ts). The server never writes back into a workstation's log.
 *
 * One server document per event, as stored in the log:
 *   { _id: '<workstationId>-<seq>', _rev: '1-<32 hex of its hash>', workstation, seq, prev, hash, event }
 * The revision is derived from the event's hash, and the batches are written with
 * `new_edits: false`, so pushing an event twice names the same revision: a replay
 * (after a crash between a batch and its checkpoint) adds nothing and creates no
 * conflict. A server whose validate_doc_update refuses updates may refuse such a replay
 * (pouchdb-server runs the validator for revisions it already has; CouchDB does not):
 * refusals of revisions the server already holds are checked with `_revs_diff` and taken
 * as the no-ops they are.
 *
 * Checkpoint: the highest seq pushed, in `_local/flint-audit-push-<workstationId>` on the
 * server (local documents are not replicated and not validated), read once, written
 * after each batch.
 */
import type { AuditLog } from '../audit/audit-log';
import type { StoredEvent } from '../audit/types';
import { couchJson, remoteFetch, RemoteError, type FetchFn, type RemoteEndpoint } from './remote';

/** Events per `_bulk_docs` request. */
export const AUDIT_PUSH_BATCH = 500;

export interface AuditPushOptions {
  log: Pick<AuditLog, 'range' | 'lastSeq'>;
  workstationId: string;
  /** Credentials (and CA) for the server; its `url` is not used here. */
  endpoint: RemoteEndpoint;
  /** The audit database's URL, e.g. https://couch.clinic.example:6984/clinic-audit. */
  auditUrl: string;
  /** Events per request (default AUDIT_PUSH_BATCH). */
  batchSize?: number;
}

export interface AuditPusher {
  /**
   * Pushes every chained event after the checkpoint, batch by batch (after the push under
   * way, if any). Resolves with the number of events sent (replays included). Throws RemoteError (status 0: the server
   * could not be reached); what was pushed before the error stays pushed and checkpointed.
   */
  pushOnce(): Promise<{ pushed: number }>;
  /** The highest seq known to be on the server (after the first pushOnce). */
  checkpoint(): number | undefined;
  /** Events in the log after that checkpoint (undefined before the first pushOnce). */
  pending(): number | undefined;
}

/** The audit event as a server document. */
export interface AuditEventDoc {
  _id: string;
  _rev: string;
  workstation: string;
  seq: number;
  prev: string;
  hash: string;
  event: StoredEvent['event'];
}

interface CheckpointDoc {
  _id: string;
  _rev?: string;
  seq: number;
}

/** The revision of an event's document: generation 1, named after its hash. */
export const auditEventRev = (hash: string): string => `1-${hash.slice(0, 32)}`;

export const auditCheckpointId = (workstationId: string): string => `_local/flint-audit-push-${workstationId}`;

export function auditEventDoc(workstationId: string, stored: StoredEvent): AuditEventDoc {
  return {
    _id: stored.id,
    _rev: auditEventRev(stored.hash),
    workstation: workstationId,
    seq: stored.seq,
    prev: stored.prev,
    hash: stored.hash,
    event: stored.event,
  };
}

export function createAuditPusher(opts: AuditPushOptions): AuditPusher {
  const { log, workstationId, endpoint } = opts;
  const base = opts.auditUrl.replace(/\/+$/, '');
  const batchSize = opts.batchSize ?? AUDIT_PUSH_BATCH;
  const fetchFn: FetchFn = remoteFetch(endpoint);
  const checkpointUrl = `${base}/${auditCheckpointId(workstationId)}`;
  let checkpoint: CheckpointDoc | undefined;
  /** The push under way (or the last one): pushes run one after the other. */
  let last: Promise<unknown> = Promise.resolve();

  const readCheckpoint = async (): Promise<CheckpointDoc> => {
    try {
      const doc = await couchJson<CheckpointDoc>(endpoint, 'GET', checkpointUrl, undefined, fetchFn);
      return { ...doc, seq: Number.isSafeInteger(doc.seq) && doc.seq > 0 ? doc.seq : 0 };
    } catch (e) {
      if (e instanceof RemoteError && e.status === 404) return { _id: auditCheckpointId(workstationId), seq: 0 };
      throw e;
    }
  };

  const writeCheckpoint = async (seq: number): Promise<void> => {
    const doc: CheckpointDoc = { _id: auditCheckpointId(workstationId), seq };
    if (checkpoint?._rev) doc._rev = checkpoint._rev;
    let res: { rev: string };
    try {
      res = await couchJson<{ rev: string }>(endpoint, 'PUT', checkpointUrl, doc, fetchFn);
    } catch (e) {
      if (!(e instanceof RemoteError && e.status === 409)) throw e;
      // Someone else wrote it (a second pusher of this workstation, a restored server): take its revision.
      const current = await readCheckpoint();
      if (current._rev) doc._rev = current._rev;
      if (current.seq > seq) doc.seq = current.seq;
      res = await couchJson<{ rev: string }>(endpoint, 'PUT', checkpointUrl, doc, fetchFn);
    }
    checkpoint = { ...doc, _rev: res.rev };
  };

  const pushBatch = async (events: StoredEvent[]): Promise<void> => {
    const docs = events.map((e) => auditEventDoc(workstationId, e));
    const result = await couchJson<BulkResult[]>(endpoint, 'POST', `${base}/_bulk_docs`, { new_edits: false, docs }, fetchFn);
    const errors = (Array.isArray(result) ? result : []).filter((r) => r.error);
    if (errors.length === 0) return;
    // Refused revisions the server already has are replays: nothing to do.
    const asked: Record<string, string[]> = {};
    for (const err of errors) {
      const doc = docs.find((d) => d._id === err.id);
      if (doc) asked[doc._id] = [doc._rev];
    }
    const missing = await couchJson<Record<string, { missing?: string[] }>>(endpoint, 'POST', `${base}/_revs_diff`, asked, fetchFn);
    const real = errors.find((err) => err.id === undefined || !asked[err.id] || (missing[err.id]?.missing?.length ?? 0) > 0);
    if (real) {
      // The reason is the server's (or its validator's) own words: no event content.
      const reason = real.reason ?? real.error ?? 'refused';
      throw new RemoteError(`the server refused audit event ${real.id ?? '?'}: ${reason}`, bulkErrorStatus(real.error), reason);
    }
  };

  const push = async (): Promise<{ pushed: number }> => {
    checkpoint ??= await readCheckpoint();
    let pushed = 0;
    for (;;) {
      const events = log.range({ afterSeq: checkpoint.seq, limit: batchSize });
      if (events.length === 0) return { pushed };
      await pushBatch(events);
      pushed += events.length;
      await writeCheckpoint(events[events.length - 1]!.seq);
    }
  };

  return {
    pushOnce() {
      // One at a time, each to the end of the log as it is when it runs: a caller never
      // misses events appended while an earlier push was under way.
      const next = last.then(push, push);
      last = next.catch(() => undefined);
      return next;
    },
    checkpoint: () => checkpoint?.seq,
    pending: () => (checkpoint ? Math.max(0, log.lastSeq() - checkpoint.seq) : undefined),
  };
}

interface BulkResult {
  id?: string;
  rev?: string;
  ok?: boolean;
  error?: string;
  reason?: string;
}

function bulkErrorStatus(error: string | undefined): number {
  switch (error) {
    case 'forbidden':
      return 403;
    case 'unauthorized':
      return 401;
    case 'conflict':
      return 409;
    default:
      return 500;
  }
}
