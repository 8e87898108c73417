/**
 * Versioned FHIR resources over an (encrypted) PouchDB database: heads plus immutable
 * version documents (see documents.ts). This class knows nothing about HTTP or FHIR
 * interactions; it commits prepared writes atomically and answers reads.
 *
 * Concurrency contract: callers hold `locks` over every resource key they write
 * (`lockKey(type, id)`) from the moment they read the heads until commit returns.
 * commit() writes all documents in one bulkDocs, which the SQLite adapter runs as one
 * SQL transaction: all of it is durable when the promise resolves, or none of it is.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import { CONFLICT_TAG, withoutConflictTag } from '../../../shared/fhir/sync-tags';
import {
  HEAD_PREFIX,
  RANGE_END,
  VERSION_PREFIX,
  headId,
  recordOf,
  withResource,
  withStoredDecimals,
  versionId,
  type HeadDoc,
  type VersionDoc,
  type VersionRecord,
  type WriteMethod,
} from './documents';
import { HeadCache } from './head-cache';
import { WriteLocks } from './write-locks';
import { makeVersionId, nextTimestamp } from './version-id';

export interface PendingWrite {
  type: string;
  id: string;
  method: WriteMethod;
  /** The new content; absent for DELETE. */
  resource?: Resource;
}

export class StoreWriteError extends Error {}

export const lockKey = (type: string, id: string): string => `${type}/${id}`;

export interface ResourceStoreOptions {
  /**
   * Told of the versions of each commit just before they go to disk (not after: the store's
   * COMMIT runs on this thread, so work started elsewhere now overlaps it). The composition
   * root starts extracting a large transaction's index rows on the receive worker here.
   */
  beforeWrite?: (records: readonly VersionRecord[]) => void;
}

export class ResourceStore {
  readonly locks = new WriteLocks();
  private readonly queue: Array<{ docs: Array<HeadDoc | VersionDoc>; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing = false;
  private readonly cache = new HeadCache();
  /** The number of documents of each group commit, once durable (sync's push follows it). */
  readonly committed = new Subject<number>();

  /**
   * @param afterCommit runs after each group of commits is durable and before their
   *   callers are answered: the composition root uses it to bring the search index up
   *   to date, which is what makes every write visible to search when it returns.
   */
  constructor(
    private readonly db: PouchDB.Database,
    private readonly workstationId: string,
    private readonly afterCommit: () => Promise<unknown> = async () => undefined,
    private readonly options: ResourceStoreOptions = {},
  ) {}

  /** The head (current version or deletion marker), or undefined if never written. Shared: do not mutate. */
  async head(type: string, id: string): Promise<HeadDoc | undefined> {
    const key = lockKey(type, id);
    return this.cache.get(key) ?? this.readHead(key, type, id);
  }

  private async readHead(key: string, type: string, id: string): Promise<HeadDoc | undefined> {
    const began = this.cache.begin();
    try {
      const doc = tagConflict(withStoredDecimals((await this.db.get(headId(type, id), { conflicts: true })) as unknown as HeadDoc & { _conflicts?: string[] }));
      this.cache.offer(key, doc, began);
      return doc;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Heads by key. Cached heads are taken at once; the others are read with one get per
   * key rather than allDocs({keys}): the SQLite adapter counts every document on each
   * allDocs call, which would make each write O(store size).
   */
  async heads(keys: ReadonlyArray<{ type: string; id: string }>): Promise<Map<string, HeadDoc>> {
    const found: Array<HeadDoc | Promise<HeadDoc | undefined> | undefined> = [];
    let reads = false;
    for (const { type, id } of keys) {
      const key = lockKey(type, id);
      const cached = this.cache.get(key);
      if (cached) found.push(cached);
      else {
        found.push(this.readHead(key, type, id));
        reads = true;
      }
    }
    const docs = reads ? await Promise.all(found) : (found as Array<HeadDoc | undefined>);
    const out = new Map<string, HeadDoc>();
    for (const doc of docs) if (doc) out.set(lockKey(doc.type, doc.id), doc);
    return out;
  }

  /**
   * Every current head, read from the change feed a page at a time (a bulk export of most
   * of the store: one query per page, where heads() reads each resource on its own). The
   * feed lists a document at its latest change, so one rewritten while this reads may come
   * twice: callers keep the first. Version documents are skipped.
   */
  async *allHeads(pageSize = 2000): AsyncGenerator<HeadDoc[]> {
    let since: number | string = 0;
    for (;;) {
      const res = await this.db.changes({ since, include_docs: true, limit: pageSize });
      const heads: HeadDoc[] = [];
      for (const ch of res.results) {
        if (ch.id.startsWith(HEAD_PREFIX) && ch.doc && !ch.deleted) heads.push(withStoredDecimals(ch.doc as unknown as HeadDoc));
      }
      if (heads.length > 0) yield heads;
      if (res.results.length < pageSize) return;
      since = res.last_seq;
    }
  }

  async version(type: string, id: string, vid: string): Promise<VersionRecord | undefined> {
    try {
      return recordOf((await this.db.get(versionId(type, id, vid))) as unknown as VersionDoc);
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Commits writes atomically. `heads` must hold the current head of every written
   * resource that exists (read under the caller's locks). Returns one record per write,
   * in order, with meta.versionId/lastUpdated set on the stored resource.
   */
  async commit(writes: PendingWrite[], heads: Map<string, HeadDoc>): Promise<VersionRecord[]> {
    if (writes.length === 0) return [];
    const tx = writes.length > 1 ? { id: randomUUID(), size: writes.length * 2 } : undefined;
    const docs: Array<HeadDoc | VersionDoc> = [];
    const records: VersionRecord[] = [];
    const seen = new Set<string>();
    for (const w of writes) {
      const key = lockKey(w.type, w.id);
      if (seen.has(key)) throw new StoreWriteError('a resource may be written only once per commit');
      seen.add(key);
      const prev = heads.get(key);
      const n = (prev?.n ?? 0) + 1;
      const vid = makeVersionId(n, this.workstationId);
      const ts = nextTimestamp(prev?.ts);
      const record: VersionRecord = { type: w.type, id: w.id, vid, n, ts, method: w.method, deleted: !w.resource };
      withResource(record, w.resource && stamped(w.resource, w.id, vid, ts));
      if (tx) record.tx = tx;
      records.push(record);
      docs.push({ ...record, _id: versionId(w.type, w.id, vid), kind: 'version' });
      const head: HeadDoc = { ...record, _id: headId(w.type, w.id), kind: 'head' };
      if (prev?._rev) head._rev = prev._rev;
      docs.push(head);
    }
    // Before the write: a read racing with it must not cache what it replaces.
    for (const w of writes) this.cache.invalidate(lockKey(w.type, w.id));
    this.options.beforeWrite?.(records);
    try {
      await this.write(docs);
    } finally {
      for (const w of writes) this.cache.invalidate(lockKey(w.type, w.id));
    }
    return records;
  }

  /**
   * Resolves a conflict (docs/sync.md, "Conflicts"): under the caller's lock on the
   * resource, one bulkDocs writes `resource` (undefined: a deletion) as a new version after
   * every leaf, updates the winning head and closes every losing head revision. Returns
   * undefined when the head has no conflict (any more).
   */
  async resolve(type: string, id: string, resource: Resource | undefined): Promise<VersionRecord | undefined> {
    const head = (await this.db.get(headId(type, id), { conflicts: true })) as unknown as HeadDoc & { _conflicts?: string[] };
    const losers = head._conflicts ?? [];
    if (losers.length === 0) return undefined;
    const leaves = [head, ...(await Promise.all(losers.map((rev) => this.db.get(headId(type, id), { rev }) as unknown as Promise<HeadDoc>)))];
    const n = Math.max(...leaves.map((l) => l.n)) + 1;
    const latest = leaves.map((l) => l.ts).sort().pop();
    const vid = makeVersionId(n, this.workstationId);
    const ts = nextTimestamp(latest);
    const method: WriteMethod = resource ? 'PUT' : 'DELETE';
    const record: VersionRecord = { type, id, vid, n, ts, method, deleted: !resource };
    withResource(record, resource && stamped(resource, id, vid, ts));
    const docs = [
      { ...record, _id: versionId(type, id, vid), kind: 'version' },
      { ...record, _id: headId(type, id), _rev: head._rev, kind: 'head' },
      ...losers.map((rev) => ({ _id: headId(type, id), _rev: rev, _deleted: true })),
    ] as unknown as Array<HeadDoc | VersionDoc>;
    this.cache.invalidate(lockKey(type, id));
    try {
      await this.write(docs);
    } finally {
      this.cache.invalidate(lockKey(type, id));
    }
    return record;
  }

  /** Something other than commit changed this resource's head (replication): forget it. */
  forget(type: string, id: string): void {
    this.cache.invalidate(lockKey(type, id));
  }

  /**
   * Group commit: while one bulkDocs is being committed, later commits queue up and go
   * to disk together in the next one, so concurrent writers share a COMMIT (and its
   * fsync) instead of paying one each. Callers write disjoint resources under their own
   * locks, so sharing a SQL transaction cannot make one's documents conflict with
   * another's; each caller is answered only once its documents are durable.
   */
  private write(docs: Array<HeadDoc | VersionDoc>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ docs, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        const all = batch.flatMap((b) => b.docs) as unknown as PouchDB.Core.PutDocument<object>[];
        const results = await this.db.bulkDocs(all);
        this.committed.next(all.length);
        await this.afterCommit();
        let offset = 0;
        for (const b of batch) {
          const mine = results.slice(offset, offset + b.docs.length);
          offset += b.docs.length;
          const failed = mine.filter((r) => 'error' in r && r.error).length;
          // Cannot happen while callers hold the locks; if it does, say so loudly (no PHI).
          if (failed > 0) b.reject(new StoreWriteError(`store rejected ${failed} of ${b.docs.length} documents`));
          else b.resolve();
        }
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.flushing = false;
  }

  /** Every version in scope (system, one type, or one resource), newest first. */
  async history(scope: { type?: string; id?: string }): Promise<VersionRecord[]> {
    let prefix = VERSION_PREFIX;
    if (scope.type) prefix += `${scope.type}/`;
    if (scope.type && scope.id) prefix += `${scope.id}/`;
    const res = await this.db.allDocs({ startkey: prefix, endkey: prefix + RANGE_END, include_docs: true });
    const out = res.rows
      .map((row) => row.doc as unknown as VersionDoc | undefined)
      .filter((d): d is VersionDoc => d !== undefined)
      .map(recordOf);
    return out.sort(newestFirst);
  }
}

export function newestFirst(a: VersionRecord, b: VersionRecord): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? 1 : -1;
  const ka = `${a.type}/${a.id}/${a.vid}`;
  const kb = `${b.type}/${b.id}/${b.vid}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

/**
 * The resource as stored: its id, version and timestamp set, and without the conflict tag
 * a client may send back after reading a resource in conflict (the tag is never stored).
 */
function stamped(resource: Resource, id: string, vid: string, ts: string): Resource {
  const clean = withoutConflictTag(resource);
  return { ...clean, id, meta: { ...clean.meta, versionId: vid, lastUpdated: ts } } as Resource;
}

/** A head with concurrent leaf revisions is served with the conflict tag (never stored). */
function tagConflict(doc: HeadDoc & { _conflicts?: string[] }): HeadDoc {
  const conflicted = (doc._conflicts?.length ?? 0) > 0;
  delete doc._conflicts;
  if (!conflicted || !doc.resource) return doc;
  const meta = doc.resource.meta ?? {};
  return { ...doc, resource: { ...doc.resource, meta: { ...meta, tag: [...(meta.tag ?? []), CONFLICT_TAG] } } as Resource };
}
