/**
 * How far a pull that catches up is (docs/sync.md, "Status"): the `pull` member of the sync
 * status, `{received, total}`, while the pull works through more than `threshold`
 * documents, removed once it is up to date.
 *
 * Units: documents (heads and versions), i.e. changes of the remote's feed, because that is
 * what the remote can say cheaply and exactly. Every Flint resource is one head plus one
 * document per version, so the number of resources is not in the database's info, and
 * `doc_count / 2` is right only when no resource has a second version. The feed gives every
 * document once (its latest revision), so:
 * - from no checkpoint (the first sync of a data dir) the pull reads exactly
 *   `doc_count + doc_del_count` changes (as of the info; later writes add to it);
 * - from a checkpoint it reads at most `update_seq - since` changes: every update moves the
 *   sequence by one, and a document updated twice since the checkpoint is read once, so this
 *   is an upper bound (each local write updates a head and adds a version: at most 2x).
 *   It is also at most the documents there are, whichever is smaller.
 * `received` counts the changes the replicator has dealt with (written, or skipped because
 * this workstation has them already), counted off the feed as each batch is checkpointed, so
 * it ends at the total rather than short of it.
 *
 * One tracker per sync session: a pull restarted after a failure goes on counting where it
 * stopped (the total becomes what was received plus what remains).
 */

export interface PullProgress {
  received: number;
  total?: number;
}

export interface PullProgressOptions {
  /** The catch-up is shown only with more than this many documents to go (default 500). */
  threshold?: number;
  /** Least time between two reports (ms; default 250); the last one is never lost. */
  intervalMs?: number;
  /** The progress, or undefined once it is over. */
  report: (p: PullProgress | undefined) => void;
  now?: () => number;
}

export interface PullProgressTracker {
  /** The pull's source for one replication run: its feed is counted, its info asked once. */
  wrap(source: PouchDB.Database): PouchDB.Database;
  /** The replicator's `checkpoint` event: the batch up to `seq` is dealt with. */
  checkpoint(seq: unknown): void;
  /** The pull is up to date (its `paused` event without an error). */
  idle(): void;
  /** The session ends: no more reports. */
  stop(): void;
  /** The catch-up now, if one runs. */
  current(): PullProgress | undefined;
}

interface FeedRow {
  seq?: unknown;
}

/** The number a sequence starts with: CouchDB 2+ sequences are `N-<opaque>`, PouchDB's plain numbers. */
export function seqNumber(seq: unknown): number {
  if (typeof seq === 'number') return seq;
  if (typeof seq === 'string') return Number.parseInt(seq, 10);
  return Number.NaN;
}

/** No checkpoint: the replicator starts its feed at 0. */
const isStart = (since: unknown) => since === undefined || since === null || since === 0 || since === '0';

/** Documents the feed will give from `since`, estimated from the database's info (see above). */
export function remainingChanges(info: { doc_count?: number; doc_del_count?: number; update_seq?: unknown }, since: unknown): number | undefined {
  const docs = (info.doc_count ?? 0) + (info.doc_del_count ?? 0);
  if (isStart(since)) return docs;
  const behind = seqNumber(info.update_seq) - seqNumber(since);
  if (!Number.isFinite(behind)) return undefined;
  return Math.max(0, Math.min(behind, docs));
}

export function createPullProgress(o: PullProgressOptions): PullProgressTracker {
  const threshold = o.threshold ?? 500;
  const interval = o.intervalMs ?? 250;
  const now = o.now ?? Date.now;
  /** The catch-up being shown, across restarts of the pull within the session. */
  let catchUp: { received: number; total?: number } | undefined;
  /** The current run's feed rows not yet dealt with (their seqs, as JSON), while they count. */
  let rows: string[] = [];
  /** Whether this run's rows are kept: until its estimate is known, and during a catch-up. */
  let counting = false;
  /** Changes of this run dealt with before its estimate came (they are part of it). */
  let early = 0;
  /** The catch-up's count when this run started (a restart goes on from there). */
  let before = 0;
  let run = 0;
  let stopped = false;
  let lastReport = 0;
  let timer: NodeJS.Timeout | undefined;

  const send = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    lastReport = now();
    if (!stopped) o.report(catchUp ? { ...catchUp } : undefined);
  };
  const schedule = () => {
    if (now() - lastReport >= interval) return send();
    timer ??= setTimeout(send, Math.max(0, lastReport + interval - now())).unref();
  };

  async function begin(source: PouchDB.Database, since: unknown, mine: number): Promise<void> {
    let remaining: number | undefined;
    try {
      remaining = remainingChanges((await source.info()) as { doc_count?: number; doc_del_count?: number; update_seq?: unknown }, since);
    } catch {
      remaining = undefined;
    }
    if (mine !== run || stopped) return;
    if (catchUp) {
      // Restarted mid-catch-up: what came before counts, what the feed holds still comes.
      if (remaining !== undefined) catchUp.total = Math.max(before + remaining, catchUp.received);
      send();
    } else if (remaining !== undefined && remaining > threshold) {
      catchUp = { received: early, total: Math.max(remaining, early) };
      send();
    } else {
      counting = false;
      rows = [];
    }
  }

  return {
    wrap(source) {
      const mine = ++run;
      rows = [];
      counting = true;
      early = 0;
      before = catchUp?.received ?? 0;
      let first = true;
      const changes = (source.changes as (opts: object) => { on(event: 'change', fn: (row: FeedRow) => void): unknown }).bind(source);
      return new Proxy(source, {
        get(target, prop) {
          if (prop === 'changes') {
            return (opts: { since?: unknown }) => {
              if (first) {
                first = false;
                void begin(target, opts?.since, mine);
              }
              const feed = changes(opts);
              feed.on('change', (row: FeedRow) => {
                if (mine === run && counting) rows.push(JSON.stringify(row?.seq ?? null));
              });
              return feed;
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
    checkpoint(seq) {
      if (!counting || rows.length === 0) return;
      const at = rows.indexOf(JSON.stringify(seq ?? null));
      if (at < 0) return;
      rows.splice(0, at + 1);
      if (!catchUp) {
        early += at + 1; // the estimate is not in yet
        return;
      }
      catchUp.received += at + 1;
      if (catchUp.total !== undefined && catchUp.received > catchUp.total) catchUp.total = catchUp.received;
      schedule();
    },
    idle() {
      counting = false;
      rows = [];
      if (!catchUp) return;
      catchUp = undefined;
      send();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const had = catchUp !== undefined;
      catchUp = undefined;
      counting = false;
      rows = [];
      if (had) o.report(undefined);
      stopped = true;
    },
    current: () => (catchUp ? { ...catchUp } : undefined),
  };
}
