/**
 * Adapters around the databases the pull replicator works with (docs/sync.md, "Receiving").
 */
import { knownDocIds, updateSeqOf } from '../store/encrypted-pouch';

/**
 * PouchDB 9's replicator calls `src.info()` after each batch for its progress counters and
 * never handles that promise: when the server goes away at that moment, the rejection is
 * unhandled and takes the process down. The counters are all it is used for there, so a
 * source that cannot answer reports no progress instead; the next request fails properly.
 */
export function asReplicationSource(db: PouchDB.Database): PouchDB.Database {
  const info = db.info.bind(db);
  db.info = () => info().catch(() => ({ db_name: db.name, doc_count: 0, update_seq: 0 }));
  return db;
}

/**
 * The store as the push replicator's source. PouchDB's replicator calls `src.info()` when it
 * starts and after each batch, for update_seq alone (its task counters); on the store info()
 * also counts every document, 0.6 s on the event loop at 100,000 resources, per batch. This
 * view answers info() with update_seq from one indexed read; everything else is the store.
 */
export function asPushSource(db: PouchDB.Database): PouchDB.Database {
  const info = async () => ({ db_name: db.name, doc_count: -1, update_seq: await updateSeqOf(db) });
  return new Proxy(db, {
    get: (target, prop, receiver) => (prop === 'info' ? info : Reflect.get(target, prop, receiver)),
  });
}

type RevsDiff = Record<string, { missing?: string[] }>;

/**
 * `db.revsDiff(diff)`, in one query for documents the database has never seen. PouchDB's
 * revsDiff reads each document's revision tree in its own read (one SQL transaction each
 * with the SQLite adapter, and an error object with a stack for each one missing): for a
 * 2,000-document batch of new documents that was 2,000 transactions per database asked.
 * knownDocIds() is one indexed query; only documents it finds (live or deleted) go through
 * revsDiff for their trees.
 */
export async function revsDiffOf(db: PouchDB.Database, diff: Record<string, string[]>): Promise<RevsDiff> {
  const ids = Object.keys(diff);
  if (ids.length === 0) return {};
  const found = await knownDocIds(db, ids);
  const out: RevsDiff = {};
  const known: Record<string, string[]> = {};
  for (const id of ids) {
    if (found.has(id)) known[id] = diff[id]!;
    else out[id] = { missing: [...diff[id]!] };
  }
  if (Object.keys(known).length > 0) Object.assign(out, await db.revsDiff(known));
  return out;
}

/** Takes a pulled batch before the inbox; resolves with the documents left for the inbox. */
export type Intake = (docs: ReadonlyArray<PouchDB.Core.PutDocument<object>>) => Promise<PouchDB.Core.PutDocument<object>[]>;

/**
 * The pull's target: the inbox, with two changes.
 * - A revision the store already has is not missing. The replicator then never fetches what
 *   this workstation wrote itself (and pushed) or what the applier already moved over, so
 *   its own writes do not come back through the inbox, and a pull resumed after a crash
 *   skips what was applied.
 * - A batch first goes through `intake`, which writes what it can apply on its own straight
 *   to the store; only the rest is written to the inbox. Both writes finish before the
 *   replicator saves its checkpoint, so a crash between them refetches only the rest.
 */
export function pullTarget(inbox: PouchDB.Database, store: PouchDB.Database, intake?: Intake): PouchDB.Database {
  const revsDiff = async (diff: Record<string, string[]>) => {
    const inInbox = await revsDiffOf(inbox, diff);
    const ask: Record<string, string[]> = {};
    for (const [id, d] of Object.entries(inInbox)) if (d.missing?.length) ask[id] = d.missing;
    if (Object.keys(ask).length === 0) return {};
    return revsDiffOf(store, ask);
  };
  /** The replicator calls bulkDocs({ docs, new_edits: false }, opts). */
  const bulkDocs = async (req: { docs?: PouchDB.Core.PutDocument<object>[]; new_edits?: boolean } | PouchDB.Core.PutDocument<object>[], opts?: { new_edits?: boolean }) => {
    const docs = Array.isArray(req) ? req : (req.docs ?? []);
    const newEdits = Array.isArray(req) ? opts?.new_edits : (req.new_edits ?? opts?.new_edits);
    if (!intake || newEdits !== false || docs.length === 0) return inbox.bulkDocs(req as PouchDB.Core.PutDocument<object>[], opts ?? {});
    const rest = await intake(docs);
    if (rest.length === 0) return [];
    return inbox.bulkDocs(rest, { ...opts, new_edits: false });
  };
  return new Proxy(inbox, {
    get(target, prop) {
      if (prop === 'revsDiff') return revsDiff;
      if (prop === 'bulkDocs') return bulkDocs;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface ChangeRow {
  id: string;
  changes: Array<{ rev: string }>;
}
interface BulkGetRequest {
  docs: Array<{ id: string; rev?: string }>;
  revs?: boolean;
  latest?: boolean;
}
interface BulkGetResult {
  id: string;
  docs: unknown[];
}

/**
 * The pull's source, fetching one batch ahead. PouchDB's replicator handles one batch at a
 * time: it fetches the documents of a batch (`bulkGet`), waits for the target to write them,
 * and only then asks for the next batch, so the server and this workstation take turns.
 * Its changes feed runs batches ahead, though. When the replicator asks for a batch, this
 * source also asks the server for the documents of the next `size` changes that the target
 * lacks (the same revsDiff the replicator will make), so the server prepares batch k+1
 * while the workstation validates and writes batch k. A request is answered from that
 * prefetch where it can and from the server for the rest; a prefetch that fails or is not
 * asked for is dropped (the replicator then asks the server itself, as it would anyway).
 */
export function prefetchingSource(
  db: PouchDB.Database,
  revsDiff: (diff: Record<string, string[]>) => Promise<Record<string, { missing?: string[] }>>,
  size: number,
  /** Told of each prefetched document (to start validating it early). */
  onPrefetched: (docs: unknown[]) => void = () => undefined,
): PouchDB.Database {
  const raw = db as unknown as {
    bulkGet(req: BulkGetRequest): Promise<{ results: BulkGetResult[] }>;
    changes(opts: object): { on(event: 'change', listener: (row: unknown) => void): unknown };
  };
  const bulkGet = raw.bulkGet.bind(db);
  const changes = raw.changes.bind(db);
  /** Changes seen in the feed and not yet requested or prefetched, in feed order. */
  let queue: ChangeRow[] = [];
  /** Prefetched results by `id rev`, and the prefetch in flight. */
  let cache = new Map<string, BulkGetResult>();
  let inFlight: Promise<void> | undefined;
  const key = (id: string, rev: string | undefined) => `${id} ${rev ?? ''}`;

  function prefetch(options: Omit<BulkGetRequest, 'docs'>): void {
    if (inFlight || queue.length === 0) return;
    const rows = queue.slice(0, size);
    queue = queue.slice(rows.length);
    inFlight = (async () => {
      const diff = await revsDiff(Object.fromEntries(rows.map((r) => [r.id, r.changes.map((c) => c.rev)])));
      const docs = Object.entries(diff).flatMap(([id, d]) => (d.missing ?? []).map((rev) => ({ id, rev })));
      if (docs.length === 0) return;
      const res = await bulkGet({ ...options, docs });
      const fetched: unknown[] = [];
      res.results.forEach((r, i) => {
        const asked = docs[i];
        if (!asked || r?.id !== asked.id) return;
        cache.set(key(asked.id, asked.rev), r);
        for (const d of r.docs) if ((d as { ok?: unknown }).ok) fetched.push((d as { ok: unknown }).ok);
      });
      onPrefetched(fetched);
      if (cache.size > 4 * size) cache = new Map(); // never asked for: let it go
    })()
      .catch(() => undefined) // the replicator's own request will meet the same failure
      .finally(() => (inFlight = undefined));
  }

  async function prefetchingBulkGet(req: BulkGetRequest): Promise<{ results: BulkGetResult[] }> {
    // The feed rows up to the last one asked for are dealt with (asked, or not missing).
    const asked = new Set(req.docs.map((d) => d.id));
    let last = -1;
    queue.forEach((r, i) => {
      if (asked.has(r.id)) last = i;
    });
    if (last >= 0) queue = queue.slice(last + 1);
    if (inFlight) await inFlight;
    const results: Array<BulkGetResult | undefined> = req.docs.map((d) => cache.get(key(d.id, d.rev)));
    for (const d of req.docs) cache.delete(key(d.id, d.rev));
    const options = { ...(req.revs !== undefined ? { revs: req.revs } : {}), ...(req.latest !== undefined ? { latest: req.latest } : {}) };
    const misses = req.docs.filter((_d, i) => !results[i]);
    const fetched = misses.length > 0 ? bulkGet({ ...options, docs: misses }) : undefined;
    prefetch(options); // the next batch, while this one is written
    if (fetched) {
      const got = (await fetched).results;
      let j = 0;
      results.forEach((r, i) => {
        if (!r) results[i] = got[j++];
      });
    }
    return { results: results.filter((r): r is BulkGetResult => r !== undefined) };
  }

  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'bulkGet') return prefetchingBulkGet;
      if (prop === 'changes') {
        return (opts: object) => {
          const feed = changes(opts);
          feed.on('change', (row: unknown) => {
            const r = row as ChangeRow;
            if (typeof r?.id === 'string' && Array.isArray(r.changes)) queue.push({ id: r.id, changes: r.changes });
            // Batches the target had entirely make no bulkGet that would drop their rows (a
            // live pull sees this workstation's own pushed writes come back): keep a bound
            // above what the replicator itself holds ahead (10 batches, its batches_limit).
            if (queue.length > 20 * size) queue = queue.slice(queue.length - 12 * size);
          });
          return feed;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
