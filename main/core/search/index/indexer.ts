/**
 * Keeps the index up to date from the PouchDB changes feed (docs/search-index.md,
 * "Keeping it up to date"). One page of the feed = one SQL transaction holding the rows,
 * the transaction bookkeeping and the page's last_seq, so a crash between pages or inside
 * one leaves the index at a consistent checkpoint and the next run re-reads from there.
 *
 * Runs are serialized (the index has one writer). Callers that arrive while a run is in
 * flight share the next run, which starts after the current one ends and therefore sees
 * every commit made before they called: that is the read-your-writes guarantee.
 */
import { HEAD_PREFIX, VERSION_PREFIX, headId, withStoredDecimals, type HeadDoc, type VersionDoc } from '../../store/documents';
import type { ConflictInfo, IndexChange, IndexDb, Seq, TxBookkeeping, TxVersion } from './index-db';
import type { IndexRows } from './index-rows';
import { LARGE_PAGE, type IndexWriterThread } from './index-writer';

export const PAGE_SIZE = 2000;
/**
 * Pages applied here are committed to the index file at most this long after the first of
 * them (IndexDb.applyBatch with defer): searches on this connection see them at once
 * (read-your-writes), and one COMMIT serves every write of the interval. A crash loses
 * only uncommitted pages together with their checkpoint: the next run re-reads them.
 */
export const COMMIT_DELAY_MS = 1000;

export interface IndexerOptions {
  db: PouchDB.Database;
  index: IndexDb;
  extract: (resource: NonNullable<HeadDoc['resource']>) => IndexRows;
  /** Told of every head the feed brings (a replicated change too), e.g. to drop cached copies. */
  onHead?: (type: string, id: string) => void;
  /** Applies large pages on another thread (index-writer.ts); small ones stay here. */
  writer?: IndexWriterThread;
}

export interface RebuildProgress {
  /** Changes read so far in this rebuild. */
  processed: number;
  checkpoint: Seq;
}

export interface Indexer {
  /** Indexes every change after the checkpoint; resolves with the number of changes read. */
  catchUp(): Promise<number>;
  /** Resolves once the index has passed `seq` (a store sequence the caller committed at). */
  waitFor(seq: Seq): Promise<void>;
  /** Clears the index and indexes the whole feed again (recording `custom`: IndexDb.clear). */
  rebuild(onProgress?: (p: RebuildProgress) => void, custom?: unknown): Promise<number>;
  /** Waits for the run in flight and refuses new ones; closes neither database. */
  close(): Promise<void>;
}

/** A page read from the feed and made ready to apply. */
interface PreparedPage {
  ready: IndexChange[];
  lastSeq: Seq;
  tx: TxBookkeeping;
  read: number;
  more: boolean;
}

const seqNumber = (seq: Seq) => (typeof seq === 'number' ? seq : Number.parseInt(String(seq), 10));

export function createIndexer({ db, index, extract, onHead, writer }: IndexerOptions): Indexer {
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<number> | undefined;
  let closed = false;
  let commitTimer: NodeJS.Timeout | undefined;
  /** Pages applied by the writer thread (counted from the start of a rebuild). */
  let writerPages = 0;

  /** Commits the deferred pages; if that fails they were rolled back: index them again. */
  const commitNow = () => {
    clearTimeout(commitTimer);
    commitTimer = undefined;
    try {
      index.commit();
    } catch {
      if (!closed) void catchUp().catch(() => undefined);
    }
  };
  const commitSoon = () => {
    if (commitTimer) return;
    commitTimer = setTimeout(commitNow, COMMIT_DELAY_MS);
    commitTimer.unref();
  };

  const enqueue = <T>(job: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the indexer is closed'));
    const p = tail.then(job);
    tail = p.catch(() => undefined);
    return p;
  };

  const toChange = (head: HeadDoc, conflict: ConflictInfo | null): IndexChange => {
    onHead?.(head.type, head.id);
    return {
      type: head.type,
      id: head.id,
      vid: head.vid,
      lastUpdated: Date.parse(head.ts),
      rows: head.deleted || !head.resource ? null : extract(withStoredDecimals(head).resource!),
      conflict,
    };
  };

  /**
   * A head replicated with concurrent edits has losing leaf revisions (`_conflicts`):
   * read each for its version id (docs/sync.md, "Conflicts"). Rare, so one get each.
   */
  async function conflictOf(head: HeadDoc & { _conflicts?: string[] }): Promise<ConflictInfo | null> {
    const revs = head._conflicts ?? [];
    if (revs.length === 0) return null;
    const losers = await Promise.all(revs.map((rev) => db.get(head._id, { rev }) as unknown as Promise<HeadDoc>));
    return {
      current: head.vid,
      versions: [head.vid, ...losers.map((l) => l.vid)],
      kind: head.deleted || losers.some((l) => l.deleted) ? 'delete' : 'edit',
    };
  }

  const withConflict = async (head: HeadDoc): Promise<IndexChange> => toChange(head, await conflictOf(head));

  async function currentHead(type: string, id: string): Promise<HeadDoc | undefined> {
    try {
      return (await db.get(headId(type, id), { conflicts: true })) as unknown as HeadDoc;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  /**
   * A store transaction is complete when all its version documents (size/2: one version and
   * one head per write) were seen and every head is at least at that version. Versions are
   * immutable so they always arrive; a head may have been replaced by a later write, which
   * is why heads are checked by version number rather than by their tx mark. Returns the
   * heads to index, or undefined while incomplete.
   */
  async function completeTx(
    txId: string,
    size: number,
    versions: Array<{ type: string; id: string; n: number }>,
    pageHeads: ReadonlyMap<string, HeadDoc>,
  ) {
    if (versions.length < size / 2) return undefined;
    // A head the page brought is the winner as of the page's read (the feed lists each
    // document once, at its latest change): as current as a get, without one per write.
    const heads = await Promise.all(versions.map((v) => pageHeads.get(`${v.type}/${v.id}`) ?? currentHead(v.type, v.id)));
    if (heads.some((h, i) => !h || h.n < versions[i]!.n)) return undefined;
    // A head since rewritten by another transaction is that transaction's to expose.
    return (heads as HeadDoc[]).filter((h) => !h.tx || h.tx.id === txId);
  }

  /**
   * Reads one page of the feed after `since` and prepares it (rows extracted, transactions
   * completed). `inFlight` is the bookkeeping of the page before, which may still be being
   * applied (run() overlaps the two): what it records counts as if it were in the index.
   */
  async function readPage(since: Seq, inFlight: TxBookkeeping | undefined): Promise<PreparedPage> {
    const res = await db.changes({ since, include_docs: true, conflicts: true, limit: PAGE_SIZE } as PouchDB.Core.ChangesOptions);
    const doneBefore = new Set(inFlight?.done);
    const txDone = (txId: string) => doneBefore.has(txId) || index.txDone(txId);
    const changes: Array<IndexChange | Promise<IndexChange>> = [];
    const versions: TxVersion[] = [];
    const touched = new Map<string, number>();
    const pageHeads = new Map<string, HeadDoc>();
    for (const ch of res.results) {
      if (ch.id.startsWith(VERSION_PREFIX)) {
        const v = ch.doc as unknown as VersionDoc | undefined;
        if (v?.tx && !txDone(v.tx.id)) {
          versions.push({ txId: v.tx.id, size: v.tx.size, type: v.type, id: v.id, n: v.n });
          touched.set(v.tx.id, v.tx.size);
        }
      } else if (ch.id.startsWith(HEAD_PREFIX)) {
        const head = ch.doc as unknown as HeadDoc | undefined;
        if (ch.deleted || !head) changes.push(purged(ch.id));
        else if (!head.tx || txDone(head.tx.id)) changes.push(withConflict(head));
        else {
          touched.set(head.tx.id, head.tx.size); // indexed when its transaction completes
          pageHeads.set(`${head.type}/${head.id}`, head);
        }
      }
    }
    const done: string[] = [];
    for (const [txId, size] of touched) {
      const seen = new Map((index.pendingTx(txId)?.versions ?? []).map((v) => [`${v.type}/${v.id}`, v]));
      for (const v of [...(inFlight?.versions ?? []), ...versions]) if (v.txId === txId) seen.set(`${v.type}/${v.id}`, v);
      const heads = await completeTx(txId, size, [...seen.values()], pageHeads);
      if (!heads) continue;
      done.push(txId);
      changes.push(...heads.map(withConflict));
    }
    return { ready: await Promise.all(changes), lastSeq: res.last_seq, tx: { versions, done }, read: res.results.length, more: res.results.length >= PAGE_SIZE };
  }

  async function applyPage({ ready, lastSeq, tx }: PreparedPage): Promise<void> {
    if (writer?.usable() && ready.length >= LARGE_PAGE) {
      commitNow(); // the thread's connection cannot write while this one holds the deferred transaction
      writerPages++;
      await writer.apply(ready, lastSeq, tx);
      index.forgetAbsentParams(); // the thread may have interned params this connection saw as absent
    } else {
      index.applyBatch(ready, lastSeq, tx, { defer: true });
      commitSoon();
    }
  }

  /**
   * Pages one after the other, in order; while the writer thread applies a large page, the
   * next one is read and extracted here (a rebuild keeps both threads busy). Resolves once
   * every page read is in the index.
   */
  async function run(onPage?: (read: number) => void): Promise<number> {
    let total = 0;
    let since = index.checkpoint();
    let inFlight: TxBookkeeping | undefined;
    let applying: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        const page = await readPage(since, inFlight);
        await applying;
        applying = applyPage(page);
        applying.catch(() => undefined); // awaited before the next page or at the end
        inFlight = page.tx;
        since = page.lastSeq;
        total += page.read;
        if (!page.more) {
          await applying;
          onPage?.(total);
          return total;
        }
        onPage?.(total);
      }
    } finally {
      await applying.catch(() => undefined); // never leave a page being applied behind
    }
  }

  /**
   * On the writer thread when the rebuild used it (a sort per index: seconds at 100,000
   * resources, off the event loop); a rebuild too small for it builds them here at once.
   */
  async function buildSearchIndexes(): Promise<void> {
    commitNow();
    if (writer?.usable() && writerPages > 0) {
      try {
        await writer.buildSearchIndexes();
        return;
      } catch {
        // rolled back there: build them here
      }
    }
    index.buildSearchIndexes();
  }

  function catchUp(): Promise<number> {
    // A run that has not started yet will read every commit made so far: share it.
    if (queued) return queued;
    const p = enqueue(() => {
      queued = undefined;
      return run();
    });
    queued = p;
    return p;
  }

  return {
    catchUp,
    async waitFor(seq) {
      if (seqNumber(index.checkpoint()) >= seqNumber(seq)) return;
      await catchUp();
    },
    rebuild(onProgress, custom) {
      return enqueue(async () => {
        // The writer thread's connection caches param ids, which the clear removes (its next
        // pages would write rows under ids no param has), and the clear replaces the file,
        // which no other connection may have open: the next large page starts a new thread.
        await writer?.close();
        writerPages = 0;
        // Without the search indexes while the rows go in; created at the end, even when
        // the run fails (the rows are then behind, not wrong: catchUp continues them).
        index.clear(custom, { dropIndexes: true });
        try {
          return await run((processed) => onProgress?.({ processed, checkpoint: index.checkpoint() }));
        } finally {
          await buildSearchIndexes();
        }
      });
    },
    async close() {
      closed = true;
      await tail;
      commitNow();
    },
  };
}

/** A head removed from PouchDB itself (purge, _deleted): the resource leaves the index. */
function purged(docId: string): IndexChange {
  const [type = '', id = ''] = docId.slice(HEAD_PREFIX.length).split('/');
  return { type, id, vid: '', lastUpdated: 0, rows: null };
}
