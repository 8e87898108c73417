/**
 * The sync engine (docs/sync.md): runs the three legs of one workstation's sync with the
 * central server, each as its own live replication that is restarted with backoff when it
 * fails, and the applier that moves pulled documents into the store.
 *
 *   pull        remote clinic db ──► inbox.db          (PouchDB replicator)
 *   applier     inbox.db ──► store.db                  (complete and valid only)
 *   push        store.db (r:, h:) ──► remote clinic db (PouchDB replicator)
 *   audit push  audit.db ──► remote audit db           (write-once, chained)
 *
 * Settings come from sync.json, watched, so `flint sync configure|pause|resume|remove`
 * take effect in a running server without a restart. Nothing here ever blocks a local
 * write: the legs follow change feeds, and the applier holds the write lock only while it
 * commits a batch.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecorder } from '../audit/recorder';
import type { SecretStore } from '../secrets/secret-store';
import { HEAD_PREFIX } from '../store/documents';
import { FlintPouchDB } from '../store/encrypted-pouch';
import type { WriteLocks } from '../store/write-locks';
import { createApplier, type Applier, type QuarantineEntry } from './applier';
import { createPushCheckpoint } from './push-checkpoint';
import { openRemoteDb, type RemoteEndpoint } from './remote';
import { createPushLeg } from './push-leg';
import { asReplicationSource, prefetchingSource, pullTarget } from './replication-ends';
import { writeStatusFile } from './status-file';
import { SYNC_FILE, auditRemoteOf, endpointFor, passwordAccount, readSyncSettings, type SyncSettings, DEFAULT_MAX_RETRY_DELAY_S } from './sync-config';
import { backoffDelay, cancelReplication, combinedStatus, type Leg, type LegName } from './sync-legs';
import { MESSAGES, SyncStatusSubject, describeFailure, receivingMessage, type SyncState } from './sync-status';
import { createPullProgress, type PullProgressTracker } from './pull-progress';
import type { Resource } from '@medplum/fhirtypes';
import type { Observable } from 'rxjs';

const BATCH = 2000;
const AUDIT_PUSH_MS = 2000;

export interface AuditPusher {
  pushOnce(): Promise<{ pushed: number }>;
  /** Events not yet on the server, after a pushOnce. */
  pending(): number | undefined;
}

export interface SyncEngineOptions {
  dataDir: string;
  workstationId: string;
  secrets: SecretStore;
  store: PouchDB.Database;
  locks: WriteLocks;
  /** Emits the number of documents of each local commit (ResourceStore.committed). */
  localCommits: Observable<number>;
  inbox: PouchDB.Database;
  /** The reasons each resource is invalid (empty: valid), in order; paths and rules, never values. */
  validate: (resources: readonly Resource[]) => Promise<string[][]>;
  /** Resources validate() will soon be asked for (the same objects): start on them now (receive-pool.ts). */
  prevalidate?: (resources: readonly Resource[]) => void;
  /** After pulled documents reach the store: forget cached heads, catch the index up. */
  afterApply: (heads: ReadonlyArray<{ type: string; id: string }>) => Promise<void>;
  /** The number of open conflicts (for the status). */
  conflicts: () => number;
  audit?: AuditRecorder;
  /** Builds the audit pusher for a session (absent: AuditEvents are not pushed). */
  auditPusher?: (endpoint: RemoteEndpoint, auditUrl: string) => AuditPusher;
  log: (line: string) => void;
  /** How often sync.json is checked for changes (ms). */
  watchIntervalMs?: number;
}

export interface SyncEngine {
  readonly status: SyncStatusSubject;
  quarantine(): Promise<QuarantineEntry[]>;
  /** Re-reads sync.json now (the watcher does it by itself). */
  reload(): Promise<void>;
  /** Runs the applier now and waits for it (tests, and after a resolution). */
  applyNow(): Promise<void>;
  /** Applier.settled(): pulled writes already visible are indexed once it settles. */
  indexed(): Promise<void> | undefined;
  /** Recounts pending changes and conflicts. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** How long after start the pending, quarantined and conflict counts are first taken. */
const FIRST_COUNTS_DELAY_MS = 1500;

export async function startSyncEngine(opts: SyncEngineOptions): Promise<SyncEngine> {
  const status = new SyncStatusSubject();
  const applier: Applier = createApplier({
    inbox: opts.inbox,
    store: opts.store,
    locks: opts.locks,
    validate: opts.validate,
    afterApply: opts.afterApply,
  });
  const pushCheckpoint = createPushCheckpoint(opts.store);
  const settingsFile = join(opts.dataDir, SYNC_FILE);
  let settingsKey: string | undefined;
  let session: Session | undefined;
  let closed = false;
  let statusTimer: NodeJS.Timeout | undefined;
  /** The session's catch-up progress (status `pull`), while a session runs. */
  let pullProgress: PullProgressTracker | undefined;
  /** What "active" says: how far a catch-up is, when one runs. */
  const activeMessage = () => {
    const p = pullProgress?.current();
    return p ? receivingMessage(p) : MESSAGES.active;
  };

  // The status file: what `flint sync status` prints while this server runs.
  const sub = status.changes.subscribe(() => {
    if (statusTimer) return;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      writeStatusFile(opts.dataDir, status.value);
    }, 100);
  });

  const record = (r: Parameters<AuditRecorder['record']>[0][number]) =>
    opts.audit?.record([r]).catch(() => opts.log('[fault] a sync audit record could not be written'));

  let applying: Promise<void> | undefined;
  let applyAgain = false;
  async function runApplier(remote: string): Promise<void> {
    if (applying) {
      applyAgain = true;
      return applying;
    }
    applying = (async () => {
      do {
        applyAgain = false;
        try {
          const r = await applier.run();
          if (r.applied > 0) {
            status.update({ received: status.value.received + r.applied });
            await record({ sync: 'import', count: r.applied, remote, ok: true, recorded: new Date() });
          }
          if (r.quarantined > 0) {
            const q = await applier.quarantine();
            for (const e of q.slice(-r.quarantined)) {
              await record({ sync: 'quarantine', count: 1, remote, ok: false, what: `${e.type}/${e.id}${e.vid ? `/_history/${e.vid}` : ''}`, detail: 'quarantined: invalid resource', recorded: new Date() });
            }
            status.update({ quarantined: q.length });
          }
          status.update({ conflicts: opts.conflicts() });
        } catch (e) {
          opts.log(`[fault] sync applier: ${(e as Error).name}`);
        }
      } while (applyAgain && !closed);
    })().finally(() => (applying = undefined));
    return applying;
  }

  /**
   * Prefetched heads: their resources are validated (and their search rows extracted) while
   * the batch before them is written. The applier validates a version through its head's
   * copy when both arrive together, after checking that they are the same resource.
   */
  function precheckHeads(docs: unknown[]): void {
    if (!opts.prevalidate) return;
    const resources: Resource[] = [];
    for (const d of docs as Array<{ _id?: unknown; resource?: unknown }>) {
      if (typeof d._id === 'string' && d._id.startsWith(HEAD_PREFIX) && d.resource && typeof d.resource === 'object') resources.push(d.resource as Resource);
    }
    opts.prevalidate(resources);
  }

  /** A pulled batch: what the applier writes straight to the store is counted and audited here. */
  async function intake(docs: ReadonlyArray<PouchDB.Core.PutDocument<object>>, remote: string): Promise<PouchDB.Core.PutDocument<object>[]> {
    const { rest, applied } = await applier.intake(docs);
    if (applied > 0) {
      status.update({ received: status.value.received + applied });
      await record({ sync: 'import', count: applied, remote, ok: true, recorded: new Date() });
    }
    return rest;
  }

  // Local commits raise `pending` and wake the push; a completed push lowers it. O(1) per commit.
  let onLocalCommit: (() => void) | undefined;
  const commits = opts.localCommits.subscribe((n) => {
    status.update({ pending: status.value.pending + n });
    onLocalCommit?.();
  });

  interface Session {
    settings: SyncSettings;
    legs: Leg[];
    stop(): Promise<void>;
  }

  function startSession(settings: SyncSettings, endpoint: RemoteEndpoint): Session {
    const maxDelay = (settings.maxRetryDelay ?? DEFAULT_MAX_RETRY_DELAY_S) * 1000;
    const remoteUrl = settings.remote;
    const legs: Leg[] = [];
    let stopped = false;
    // A catch-up of the pull reports its progress in the status (pull-progress.ts).
    const progress = createPullProgress({
      report: (p) => {
        if (stopped) return;
        status.update({ pull: p, ...(status.value.state === 'active' ? { message: activeMessage() } : {}) });
      },
    });
    pullProgress = progress;
    const combine = () => status.update(combinedStatus(legs, activeMessage));

    const fail = (leg: Leg, e: unknown) => {
      if (stopped) return;
      const { state, message } = describeFailure(e);
      leg.state = state;
      leg.message = message;
      combine();
      const delay = backoffDelay(leg.attempt++, maxDelay);
      leg.timer = setTimeout(() => restart(leg), delay);
    };
    const ok = (leg: Leg, state: SyncState) => {
      if (stopped) return;
      leg.state = state;
      if (state === 'idle') leg.attempt = 0;
      combine();
    };
    const legNamed = (name: LegName) => legs.find((l) => l.name === name)!;

    const push = createPushLeg({
      store: opts.store,
      endpoint,
      remoteUrl,
      batchSize: BATCH,
      status,
      pushCheckpoint,
      record: (r) => void record(r),
      log: opts.log,
      ok: (state) => ok(legNamed('push'), state),
      fail: (err) => fail(legNamed('push'), err),
      backingOff: () => legNamed('push').timer !== undefined,
    });
    onLocalCommit = () => push.committed();

    let pull: PouchDB.Replication.Replication<object> | undefined;
    let auditTimer: NodeJS.Timeout | undefined;
    const legStarts: Record<LegName, (leg: Leg) => void> = {
      pull(leg) {
        const target = pullTarget(opts.inbox, opts.store, (docs) => intake(docs, remoteUrl));
        const remote = progress.wrap(prefetchingSource(asReplicationSource(openRemoteDb(endpoint)), (diff) => target.revsDiff(diff), BATCH, precheckHeads));
        const rep = FlintPouchDB.replicate(remote, target, { live: true, retry: false, batch_size: BATCH, heartbeat: 10_000 } as PouchDB.Replication.ReplicateOptions);
        pull = rep;
        // The replication is also a promise that rejects on error: 'error' below handles it.
        rep.catch(() => undefined);
        rep.on('active', () => ok(leg, 'active'));
        rep.on('change', () => void runApplier(remoteUrl));
        // After each batch is written: how far a catch-up is.
        (rep as unknown as { on(event: 'checkpoint', fn: (e: { checkpoint?: unknown }) => void): void }).on('checkpoint', (e) => {
          if (e && 'checkpoint' in e) progress.checkpoint(e.checkpoint);
        });
        rep.on('paused', (err: unknown) => (err ? undefined : (progress.idle(), ok(leg, 'idle'), void runApplier(remoteUrl))));
        rep.on('error', (err: unknown) => fail(leg, err));
      },
      push: () => push.run(),
      audit(leg) {
        if (!opts.auditPusher) return;
        const pusher = opts.auditPusher(endpoint, auditRemoteOf(settings));
        const tick = async () => {
          auditTimer = undefined;
          if (stopped) return;
          try {
            await pusher.pushOnce();
            status.update({ auditPending: pusher.pending() ?? 0 });
            ok(leg, 'idle');
            auditTimer = setTimeout(() => void tick(), AUDIT_PUSH_MS);
          } catch (e) {
            // Known from the last checkpoint even when the server cannot be reached: it grows.
            const pending = pusher.pending();
            if (pending !== undefined) status.update({ auditPending: pending });
            fail(leg, e);
          }
        };
        void tick();
      },
    };
    /** Ends what a leg runs, before it starts again or the session stops. */
    const legStops: Record<LegName, () => Promise<void>> = {
      async pull() {
        const rep = pull;
        pull = undefined;
        if (rep) await cancelReplication(rep);
      },
      push: () => push.cancel(),
      async audit() {
        clearTimeout(auditTimer);
        auditTimer = undefined;
      },
    };

    function restart(leg: Leg): void {
      if (stopped) return;
      leg.timer = undefined;
      void leg.stop().then(() => {
        if (stopped) return;
        leg.state = 'connecting';
        legStarts[leg.name](leg);
      });
    }

    const names: LegName[] = opts.auditPusher ? ['pull', 'push', 'audit'] : ['pull', 'push'];
    for (const name of names) legs.push({ name, state: 'connecting', attempt: 0, stop: legStops[name] });
    status.update({ configured: true, remote: remoteUrl, state: 'connecting', message: MESSAGES.connecting });
    for (const leg of legs) legStarts[leg.name](leg);
    void runApplier(remoteUrl); // whatever an earlier run left in the inbox

    return {
      settings,
      legs,
      async stop() {
        progress.stop();
        status.update({ pull: undefined });
        if (pullProgress === progress) pullProgress = undefined;
        stopped = true;
        for (const leg of legs) if (leg.timer) clearTimeout(leg.timer);
        await Promise.all([push.stop(), ...legs.map((l) => l.stop())]);
      },
    };
  }

  /** Sync cannot run as configured: say why, in the front desk's words. */
  function cannotRun(message: string, remote?: string): void {
    status.update({ configured: true, remote, state: 'error', message, lastError: message });
  }

  async function reload(): Promise<void> {
    if (closed) return;
    let settings: SyncSettings | undefined;
    let key: string;
    try {
      settings = readSyncSettings(opts.dataDir);
      key = JSON.stringify(settings ?? null);
    } catch {
      settings = undefined;
      key = 'damaged';
    }
    // The password may change without sync.json changing (configure writes both).
    const password = settings ? await opts.secrets.get(passwordAccount(opts.workstationId)).catch(() => null) : null;
    key += `\n${password ?? ''}`;
    if (key === settingsKey) return;
    settingsKey = key;
    await session?.stop();
    session = undefined;
    if (key.startsWith('damaged')) return cannotRun(MESSAGES.settings);
    if (!settings) {
      status.update({ configured: false, state: 'offline', message: MESSAGES.notConfigured, remote: undefined, lastError: undefined });
      return;
    }
    if (settings.paused) {
      status.update({ configured: true, remote: settings.remote, state: 'paused', message: MESSAGES.paused, lastError: undefined });
      return;
    }
    if (password === null) return cannotRun(MESSAGES.noPassword, settings.remote);
    if (settings.caFile && !isReadable(settings.caFile)) return cannotRun(MESSAGES.caFile, settings.remote);
    try {
      session = startSession(settings, endpointFor(settings, password));
    } catch {
      // Nothing in a session's start may take the server down: local work goes on.
      opts.log('[fault] sync could not start');
      cannotRun(MESSAGES.serverError, settings.remote);
    }
  }

  let reloading: Promise<void> = Promise.resolve();
  const reloadSerial = () => (reloading = reloading.then(reload, reload));
  const watcher = () => void reloadSerial();
  watchFile(settingsFile, { interval: opts.watchIntervalMs ?? 1000, persistent: false }, watcher);
  await reloadSerial();
  // The first counts read the change feed since the push checkpoint (up to 10,000 changes:
  // 0.28 s at 100,000 resources): shortly after start-up rather than on its path.
  const firstCounts = setTimeout(() => {
    if (closed) return;
    void Promise.all([applier.quarantine(), pushCheckpoint.pending()]).then(
      ([q, pending]) => status.update({ quarantined: q.length, conflicts: opts.conflicts(), pending }),
      () => undefined, // counts are refreshed as sync runs
    );
  }, FIRST_COUNTS_DELAY_MS);
  firstCounts.unref();

  return {
    status,
    quarantine: () => applier.quarantine(),
    indexed: () => applier.settled(),
    reload: reloadSerial,
    async applyNow() {
      await runApplier(session?.settings.remote ?? '');
    },
    async refresh() {
      status.update({ conflicts: opts.conflicts(), pending: await pushCheckpoint.pending() });
    },
    async close() {
      closed = true;
      clearTimeout(firstCounts);
      unwatchFile(settingsFile, watcher);
      commits.unsubscribe();
      await reloading.catch(() => undefined);
      await session?.stop();
      await pushCheckpoint.close();
      await applying?.catch(() => undefined);
      await applier.close();
      sub.unsubscribe();
      if (statusTimer) clearTimeout(statusTimer);
      writeStatusFile(opts.dataDir, { ...status.value, state: status.value.configured ? 'offline' : status.value.state, message: 'The Flint server on this computer is not running.' }, false);
      status.complete();
    },
  };
}

function isReadable(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}
