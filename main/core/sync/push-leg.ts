/**
 * The push leg of a sync session: one-shot replications of the store to the clinic
 * database, started PUSH_DEBOUNCE_MS after a local commit (commits meanwhile join it), so
 * that a burst of writes costs one push and one checkpoint rather than one each, and local
 * writes never wait on the push's disk writes. Only resources and their versions go.
 */
import type { SyncRecord } from '../audit/types';
import { HEAD_PREFIX, VERSION_PREFIX } from '../store/documents';
import { FlintPouchDB, updateSeqOf } from '../store/encrypted-pouch';
import type { PushCheckpoint } from './push-checkpoint';
import { openRemoteDb, type RemoteEndpoint } from './remote';
import { asPushSource } from './replication-ends';
import { cancelReplication } from './sync-legs';
import { MESSAGES, type SyncStatusSubject } from './sync-status';

/** Local commits within this window go to the server in one push (and one checkpoint). */
const PUSH_DEBOUNCE_MS = 500;

export interface PushLegOptions {
  store: PouchDB.Database;
  endpoint: RemoteEndpoint;
  remoteUrl: string;
  batchSize: number;
  status: SyncStatusSubject;
  pushCheckpoint: PushCheckpoint;
  record: (r: SyncRecord) => void;
  log: (line: string) => void;
  /** The leg's state: `active` while a push runs, `idle` once it ended. */
  ok: (state: 'active' | 'idle') => void;
  /** The push failed: the session backs off and calls run() again. */
  fail: (err: unknown) => void;
  /** The leg is backing off after a failure (its retry will push). */
  backingOff: () => boolean;
}

export interface PushLeg {
  /** Pushes now. */
  run(): void;
  /** A local commit: a push starts within PUSH_DEBOUNCE_MS, or after the running one. */
  committed(): void;
  /** Stops the leg for good: no push starts after this, and a running one is cancelled. */
  stop(): Promise<void>;
  /** Cancels the running push, if any (before a retry). */
  cancel(): Promise<void>;
}

export function createPushLeg(o: PushLegOptions): PushLeg {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let replication: PouchDB.Replication.Replication<object> | undefined;

  function committed(): void {
    if (stopped || o.backingOff()) return;
    if (running) again = true;
    else timer ??= setTimeout(run, PUSH_DEBOUNCE_MS);
  }

  function ended(rep: PouchDB.Replication.Replication<object>): void {
    running = false;
    if (replication === rep) replication = undefined;
  }

  function run(): void {
    timer = undefined;
    if (stopped) return;
    running = true;
    again = false;
    const pendingAtStart = o.status.value.pending;
    const remote = openRemoteDb(o.endpoint);
    void updateSeqOf(o.store).then(
      (updateSeq) => {
        if (stopped) return void (running = false);
        const rep = FlintPouchDB.replicate(asPushSource(o.store), remote, {
          batch_size: o.batchSize,
          // Resources and their versions only: the store holds nothing else today, and
          // whatever it may hold later stays local unless named here.
          filter: (doc: { _id: string }) => doc._id.startsWith(HEAD_PREFIX) || doc._id.startsWith(VERSION_PREFIX),
        });
        replication = rep;
        o.ok('active');
        // docs_written is the replication's running total: count what each batch adds.
        let written = 0;
        rep.on('change', (change: { docs_written?: number }) => {
          const total = change.docs_written ?? written;
          const n = total - written;
          written = total;
          if (n > 0) {
            o.status.update({ sent: o.status.value.sent + n });
            o.record({ sync: 'export', count: n, remote: o.remoteUrl, ok: true, recorded: new Date() });
          }
        });
        rep.on('denied', () => {
          o.status.update({ lastError: MESSAGES.serverError });
          o.log('[sync] the server refused a document (validate_doc_update)');
        });
        rep.then(
          () => {
            ended(rep);
            if (stopped) return;
            // Everything committed before it started is on the server now.
            o.status.update({ pending: Math.max(0, o.status.value.pending - pendingAtStart) });
            o.pushCheckpoint.note(updateSeq);
            o.ok('idle');
            if (again || o.status.value.pending > 0) committed();
          },
          (err: unknown) => {
            ended(rep);
            if (!stopped) o.fail(err);
          },
        );
      },
      (err: unknown) => {
        running = false;
        if (!stopped) o.fail(err);
      },
    );
  }

  async function cancel(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const rep = replication;
    replication = undefined;
    if (rep) await cancelReplication(rep);
  }

  return {
    run,
    committed,
    cancel,
    async stop() {
      stopped = true;
      await cancel();
    },
  };
}
