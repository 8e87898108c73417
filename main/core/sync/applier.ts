/**
 * The applier (docs/sync.md, "Receiving"): moves what the pull replicator brought into the
 * inbox over to the store, but only what is complete and valid, with its revisions kept
 * (`new_edits: false`), so the store's revision trees match the server's and conflicts form
 * in the store exactly as they would in CouchDB.
 *
 * - A document of a transaction waits until every version document of that transaction
 *   is here; then the whole transaction is written in one bulkDocs (one SQL transaction).
 * - A head waits for its own version document. A resource with a version stuck in an
 *   incomplete transaction keeps its current state until the transaction completes.
 * - A leaf that is malformed or whose resource fails validation is quarantined: kept in
 *   the inbox, listed, never written to the store. A transaction with a quarantined
 *   member, and a head whose version is quarantined, are quarantined too.
 *
 * Runs are serialized. The checkpoint (`_local/flint-applier` in the inbox) is the inbox
 * sequence before the oldest change not yet dealt with; it is written after the store
 * write, and replaying a batch is harmless (the store already has those revisions).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import { decimalTextsMatch } from '../../../shared/fhir/exact-json';
import { HEAD_PREFIX, VERSION_PREFIX, headId, versionId, withStoredDecimals, type VersionRecord } from '../store/documents';
import type { WriteLocks } from '../store/write-locks';
import { revsDiffOf } from './replication-ends';

export const APPLIER_CHECKPOINT = '_local/flint-applier';
export const QUARANTINE_DOC = '_local/flint-quarantine';
const PAGE = 500;

export interface QuarantineEntry {
  /** The document id in the inbox, e.g. `r:Patient/123`. */
  doc: string;
  rev: string;
  type: string;
  id: string;
  vid?: string;
  /** Why: the validator's findings (element paths and rule names), or the malformed field. */
  reason: string;
  /** When it was quarantined (ISO). */
  at: string;
}

export interface ApplyResult {
  /** Documents written to the store. */
  applied: number;
  /** Resources (heads) among them. */
  resources: number;
  /** Leaves newly quarantined. */
  quarantined: number;
  /** Documents waiting for the rest of their transaction or their version. */
  waiting: number;
}

export interface ApplierOptions {
  inbox: PouchDB.Database;
  store: PouchDB.Database;
  locks: WriteLocks;
  /** The reasons each resource is invalid (empty: valid), in order. Messages must name paths and rules, never values. */
  validate: (resources: readonly Resource[]) => Promise<string[][]>;
  /** After each store write, before the run goes on: forget cached heads, catch the index up. */
  afterApply: (heads: ReadonlyArray<{ type: string; id: string }>) => Promise<void>;
}

export interface Applier {
  /** Applies everything applicable now; resolves with what it did. */
  run(): Promise<ApplyResult>;
  /**
   * Writes what of a pulled batch can be applied on its own straight to the store; resolves
   * with the documents left for the inbox and the number applied.
   */
  intake(docs: ReadonlyArray<PouchDB.Core.PutDocument<object>>): Promise<{ rest: PouchDB.Core.PutDocument<object>[]; applied: number }>;
  quarantine(): Promise<QuarantineEntry[]>;
  /**
   * Settles once every write already visible in the store has had its afterApply (the
   * index caught up); undefined when none is outstanding. Readers await it so that what a
   * read shows, a search finds (a replicated write is not half visible).
   */
  settled(): Promise<void> | undefined;
  close(): Promise<void>;
}

interface Leaf {
  _id: string;
  _rev: string;
  _deleted?: boolean;
  _revisions?: { start: number; ids: string[] };
  type?: unknown;
  id?: unknown;
  vid?: unknown;
  n?: unknown;
  ts?: unknown;
  deleted?: unknown;
  resource?: Resource;
  decimals?: unknown;
  tx?: { id?: unknown; size?: unknown };
}

type Verdict = { ok: true } | { ok: false; reason: string };

/** `Patient/1` of `r:Patient/1` and of `h:Patient/1/2.ws`. */
function resourceOf(docId: string): string {
  const [type = '', id = ''] = docId.slice(2).split('/');
  return `${type}/${id}`;
}

const seqNumber = (seq: unknown): number => (typeof seq === 'number' ? seq : Number.parseInt(String(seq), 10) || 0);

export function createApplier(opts: ApplierOptions): Applier {
  const { inbox, store, locks } = opts;
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  /** The inbox sequence read up to in this process (the checkpoint may trail it). */
  let readSeq: number | undefined;
  /** Documents seen but not applied yet, with the sequence they changed at. */
  const pending = new Map<string, number>();
  /** Writes visible in the store (or about to be) whose afterApply has not finished. */
  const unsettled = new Set<Promise<void>>();
  /** Transactions known to be in the store already. */
  const doneTx = new Set<string>();
  let quarantined: Map<string, QuarantineEntry> | undefined;

  async function readLocal<T>(id: string): Promise<(T & { _rev?: string }) | undefined> {
    try {
      return (await inbox.get(id)) as unknown as T & { _rev?: string };
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  async function writeLocal(id: string, body: object): Promise<void> {
    const prev = await readLocal<object>(id);
    await inbox.put({ ...body, _id: id, ...(prev?._rev ? { _rev: prev._rev } : {}) } as PouchDB.Core.PutDocument<object>);
  }

  async function loadQuarantine(): Promise<Map<string, QuarantineEntry>> {
    if (!quarantined) {
      const doc = await readLocal<{ entries?: QuarantineEntry[] }>(QUARANTINE_DOC);
      quarantined = new Map((doc?.entries ?? []).map((e) => [`${e.doc} ${e.rev}`, e]));
    }
    return quarantined;
  }

  function checkShape(leaf: Leaf): Verdict {
    const isHead = leaf._id.startsWith(HEAD_PREFIX);
    // Version documents are written once: a second revision of one is an edit of history.
    if (!isHead && (leaf._deleted || (leaf._revisions?.start ?? 1) > 1)) return { ok: false, reason: 'a version document was changed or deleted after it was written' };
    if (leaf._deleted) return { ok: true }; // a closed branch (a resolved conflict)
    const { type, id, vid, n, ts } = leaf;
    if (typeof type !== 'string' || typeof id !== 'string' || typeof vid !== 'string') return { ok: false, reason: 'the document lacks type, id or vid' };
    const expected = isHead ? headId(type, id) : versionId(type, id, vid);
    if (leaf._id !== expected) return { ok: false, reason: 'the document id does not match its type, id and vid' };
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) return { ok: false, reason: 'the version number n is not a positive integer' };
    if (typeof ts !== 'string' || !Number.isFinite(Date.parse(ts))) return { ok: false, reason: 'the version timestamp ts is not a date-time' };
    if (leaf.tx !== undefined && (typeof leaf.tx.id !== 'string' || typeof leaf.tx.size !== 'number' || leaf.tx.size < 2)) {
      return { ok: false, reason: 'the transaction mark is malformed' };
    }
    if (leaf.deleted === true) return leaf.resource === undefined ? { ok: true } : { ok: false, reason: 'a deletion carries a resource' };
    const r = leaf.resource;
    if (!r || typeof r !== 'object') return { ok: false, reason: 'the version has no resource' };
    if (r.resourceType !== type) return { ok: false, reason: 'resourceType does not match the document type' };
    if (r.id !== id) return { ok: false, reason: 'the resource id does not match the document' };
    if (r.meta?.versionId !== vid) return { ok: false, reason: 'meta.versionId does not match the document' };
    if (leaf.decimals !== undefined && !decimalTextsMatch(r, leaf.decimals)) return { ok: false, reason: 'the exact decimal texts do not match the resource' };
    return { ok: true };
  }

  async function storeHas(docId: string): Promise<boolean> {
    try {
      await store.get(docId);
      return true;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return false;
      throw e;
    }
  }

  /** Reads a page of the inbox's changes into `pending`; true if there may be more. */
  async function readInbox(): Promise<boolean> {
    if (readSeq === undefined) readSeq = seqNumber((await readLocal<{ seq: number }>(APPLIER_CHECKPOINT))?.seq ?? 0);
    const res = await inbox.changes({ since: readSeq, limit: PAGE, style: 'all_docs' } as PouchDB.Core.ChangesOptions);
    for (const ch of res.results) {
      if (ch.id.startsWith(HEAD_PREFIX) || ch.id.startsWith(VERSION_PREFIX)) pending.set(ch.id, seqNumber(ch.seq));
    }
    readSeq = seqNumber(res.last_seq);
    return res.results.length >= PAGE;
  }

  async function pass(): Promise<ApplyResult & { more: boolean }> {
    const q = await loadQuarantine();
    const more = await readInbox();
    const result: ApplyResult & { more: boolean } = { applied: 0, resources: 0, quarantined: 0, waiting: 0, more };
    if (pending.size > 0) await applyPending(q, result);
    const oldest = Math.min(...pending.values());
    const read = readSeq ?? 0;
    const checkpoint = pending.size > 0 ? Math.min(oldest - 1, read) : read;
    await writeLocal(APPLIER_CHECKPOINT, { seq: checkpoint });
    result.waiting = pending.size;
    return result;
  }

  interface Plan {
    apply: Leaf[];
    /** Document ids that wait for the rest of their transaction or their version. */
    waiting: Set<string>;
    bad: Map<Leaf, string>;
    txVersions: Map<string, { size: number; versions: Set<string>; leaves: Leaf[] }>;
    blockedTx: Set<string>;
    badTx: Map<string, string>;
  }

  /**
   * What of `candidates` (leaves the store lacks) can be written now: valid, its whole
   * transaction here, and a head only with its version. The rest waits or is bad.
   */
  async function plan(candidates: Leaf[]): Promise<Plan> {
    const shapes = new Map<Leaf, Verdict>();
    const versionKey = (leaf: Leaf) => `${String(leaf.type)}/${String(leaf.id)}/${String(leaf.vid)}`;
    const needsValidation = (leaf: Leaf, shape: Verdict) => shape.ok && !leaf._deleted && leaf.deleted !== true && leaf.resource !== undefined;
    const heads = new Map<string, Leaf>();
    const versions = new Map<string, Leaf>();
    for (const leaf of candidates) {
      const shape = checkShape(leaf);
      shapes.set(leaf, shape);
      if (needsValidation(leaf, shape)) (leaf._id.startsWith(HEAD_PREFIX) ? heads : versions).set(versionKey(leaf), leaf);
    }
    // A head carries exactly its version's resource (documents.ts): one that differs is
    // refused together with its version, or reads and search could disagree with history.
    for (const [k, v] of versions) {
      const h = heads.get(k);
      if (!h || isDeepStrictEqual(h.resource, v.resource)) continue;
      const differs: Verdict = { ok: false, reason: 'the head and its version document carry different resources' };
      shapes.set(h, differs);
      shapes.set(v, differs);
      heads.delete(k);
      versions.delete(k);
    }
    // Validity once per version, in one batch: the head's copy where the head is here (the
    // one prechecked, and the one indexed), else the version's.
    const toValidate = new Map<string, Resource>();
    // With their exact number texts (documents.ts), which the index rows' precision reads.
    for (const [k, v] of versions) toValidate.set(k, withStoredDecimals(v as unknown as VersionRecord).resource!);
    for (const [k, h] of heads) toValidate.set(k, withStoredDecimals(h as unknown as VersionRecord).resource!);
    const keys = [...toValidate.keys()];
    const reasons = await opts.validate([...toValidate.values()]);
    const byVersion = new Map<string, Verdict>(
      keys.map((k, i) => {
        const r = reasons[i] ?? ['exception at the resource: no validation result'];
        return [k, r.length === 0 ? { ok: true } : { ok: false, reason: r.join('; ') }];
      }),
    );
    const verdicts = new Map<Leaf, Verdict>();
    for (const [leaf, shape] of shapes) verdicts.set(leaf, needsValidation(leaf, shape) ? byVersion.get(versionKey(leaf))! : shape);
    const bad = new Map<Leaf, string>();
    for (const [leaf, v] of verdicts) if (!v.ok) bad.set(leaf, v.reason);

    // Transactions: complete when all their versions are here (or already in the store).
    const txVersions: Plan['txVersions'] = new Map();
    for (const leaf of candidates) {
      const txId = typeof leaf.tx?.id === 'string' ? leaf.tx.id : undefined;
      if (!txId || leaf._deleted) continue;
      const t = txVersions.get(txId) ?? { size: Number(leaf.tx?.size), versions: new Set<string>(), leaves: [] };
      t.leaves.push(leaf);
      if (leaf._id.startsWith(VERSION_PREFIX)) t.versions.add(leaf._id);
      txVersions.set(txId, t);
    }
    const blockedTx = new Set<string>();
    const badTx = new Map<string, string>();
    for (const [txId, t] of txVersions) {
      const member = t.leaves.find((l) => bad.has(l));
      if (member) {
        badTx.set(txId, `another document of its transaction is quarantined (${bad.get(member)})`);
        continue;
      }
      if (doneTx.has(txId)) continue;
      if (t.versions.size >= t.size / 2) continue;
      // Versions of it may already be in the store (applied together earlier): then it is done.
      const probe = t.leaves.find((l) => l._id.startsWith(HEAD_PREFIX));
      if (probe && (await storeHas(versionId(String(probe.type), String(probe.id), String(probe.vid))))) {
        doneTx.add(txId);
        continue;
      }
      blockedTx.add(txId);
    }
    for (const [txId, reason] of badTx) for (const l of txVersions.get(txId)!.leaves) if (!bad.has(l)) bad.set(l, reason);
    // A resource touched by a waiting transaction waits whole.
    const blockedResources = new Set<string>();
    for (const txId of blockedTx) for (const l of txVersions.get(txId)!.leaves) blockedResources.add(`${String(l.type)}/${String(l.id)}`);

    const versionsHere = new Set<string>();
    for (const leaf of candidates) {
      if (leaf._id.startsWith(VERSION_PREFIX) && !leaf._deleted && !bad.has(leaf)) versionsHere.add(leaf._id);
    }
    const badVersions = new Map<string, string>();
    for (const [leaf, reason] of bad) if (leaf._id.startsWith(VERSION_PREFIX)) badVersions.set(leaf._id, reason);

    const apply: Leaf[] = [];
    const waiting = new Set<string>();
    for (const leaf of candidates) {
      if (bad.has(leaf)) continue;
      const resourceKey = `${String(leaf.type ?? '')}/${String(leaf.id ?? '')}`;
      if (!leaf._deleted && blockedResources.has(resourceKey)) {
        waiting.add(leaf._id);
        continue;
      }
      if (leaf._id.startsWith(HEAD_PREFIX) && !leaf._deleted) {
        const vdoc = versionId(String(leaf.type), String(leaf.id), String(leaf.vid));
        const vBad = badVersions.get(vdoc);
        if (vBad) {
          bad.set(leaf, `its version is quarantined (${vBad})`);
          continue;
        }
        if (!versionsHere.has(vdoc) && !(await storeHas(vdoc))) {
          waiting.add(leaf._id);
          continue;
        }
      }
      apply.push(leaf);
    }
    return { apply, waiting, bad, txVersions, blockedTx, badTx };
  }

  /**
   * Writes a plan's leaves to the store in one bulkDocs, then runs afterApply: awaited, or
   * in the background (`background`, so the replicator fetches the next batch meanwhile).
   * From before the commit until afterApply ends, settled() waits for this write.
   * Returns the heads written.
   */
  async function write(p: Plan, background = false): Promise<Map<string, { type: string; id: string }>> {
    const heads = new Map<string, { type: string; id: string }>();
    for (const l of p.apply) {
      if (!l._id.startsWith(HEAD_PREFIX)) continue;
      const [type = '', id = ''] = l._id.slice(HEAD_PREFIX.length).split('/');
      heads.set(l._id, { type, id });
    }
    let release!: () => void;
    const settledWrite = new Promise<void>((resolve) => (release = resolve));
    unsettled.add(settledWrite);
    void settledWrite.then(() => unsettled.delete(settledWrite));
    try {
      await locks.exclusive(async () => {
        const results = await store.bulkDocs(p.apply as unknown as PouchDB.Core.PutDocument<object>[], { new_edits: false });
        const failed = results.filter((r) => 'error' in r && (r as { error?: unknown }).error).length;
        if (failed > 0) throw new Error(`the store refused ${failed} replicated documents`);
      });
    } catch (e) {
      release();
      throw e;
    }
    const applied = new Set(p.apply.map((l) => l._id));
    for (const [txId, t] of p.txVersions) {
      if (!p.blockedTx.has(txId) && !p.badTx.has(txId) && t.leaves.some((l) => applied.has(l._id))) doneTx.add(txId);
    }
    const after = opts.afterApply([...heads.values()]).finally(release);
    if (background) after.catch(() => undefined); // retried with the next catch-up
    else await after;
    return heads;
  }

  async function applyPending(q: Map<string, QuarantineEntry>, result: ApplyResult): Promise<void> {
    // Which leaf revisions of the pending documents does the store lack?
    const ids = [...pending.keys()];
    const leafRevs: Record<string, string[]> = {};
    const leaves = await Promise.all(ids.map((id) => inbox.get(id, { open_revs: 'all', revs: true } as PouchDB.Core.GetOptions) as unknown as Promise<Array<{ ok?: Leaf }>>));
    const byId = new Map<string, Leaf[]>();
    ids.forEach((id, i) => {
      const docs = (leaves[i] ?? []).flatMap((r) => (r.ok ? [r.ok] : []));
      byId.set(id, docs);
      leafRevs[id] = docs.map((d) => d._rev);
    });
    const diff = await revsDiffOf(store, leafRevs);
    const candidates: Leaf[] = [];
    for (const id of ids) {
      const missing = new Set(diff[id]?.missing ?? []);
      const todo = (byId.get(id) ?? []).filter((d) => missing.has(d._rev) && !q.has(`${d._id} ${d._rev}`));
      if (todo.length === 0) pending.delete(id); // already in the store, or only quarantined leaves
      else candidates.push(...todo);
    }
    if (candidates.length === 0) return;

    const p = await plan(candidates);
    const { apply, waiting, bad } = p;
    const now = new Date().toISOString();
    let newlyQuarantined = 0;
    for (const [leaf, reason] of bad) {
      const key = `${leaf._id} ${leaf._rev}`;
      if (q.has(key)) continue;
      const [type = '', rest = ''] = leaf._id.slice(2).split('/');
      const entry: QuarantineEntry = { doc: leaf._id, rev: leaf._rev, type: typeof leaf.type === 'string' ? leaf.type : type, id: typeof leaf.id === 'string' ? leaf.id : rest, reason, at: now };
      if (typeof leaf.vid === 'string') entry.vid = leaf.vid;
      q.set(key, entry);
      newlyQuarantined++;
    }

    const applied = new Set(apply.map((l) => l._id));
    if (apply.length > 0) {
      const heads = await write(p);
      // A document applied now may still have leaves waiting (a newer one): keep those pending.
      for (const id of applied) if (!waiting.has(id)) pending.delete(id);
      // A valid leaf of a document, applied now, clears that document's earlier quarantine entries.
      const badNow = new Set([...bad.keys()].map((l) => `${l._id} ${l._rev}`));
      for (const [key, e] of q) if (applied.has(e.doc) && !badNow.has(key)) q.delete(key);
      result.applied += apply.length;
      result.resources += heads.size;
    }
    for (const [leaf] of bad) if (!waiting.has(leaf._id) && !applied.has(leaf._id)) pending.delete(leaf._id);
    if (newlyQuarantined > 0 || apply.length > 0) {
      result.quarantined += newlyQuarantined;
      await writeLocal(QUARANTINE_DOC, { entries: [...q.values()] });
    }
  }

  /**
   * A pulled batch, before it reaches the inbox: what is complete and valid on its own and
   * touches no resource with documents still waiting in the inbox goes straight to the store
   * (one bulkDocs, no inbox round trip); everything else is returned for the inbox, where
   * run() deals with it as before. The index is caught up in the background (afterApply is
   * not awaited), so the replicator fetches the next batch meanwhile.
   */
  async function intake(docs: Leaf[]): Promise<{ rest: Leaf[]; applied: number }> {
    while (await readInbox()); // `pending` then holds every document the inbox has not handed over
    const waitingResources = new Set<string>();
    for (const id of pending.keys()) waitingResources.add(resourceOf(id));
    const candidates: Leaf[] = [];
    const rest: Leaf[] = [];
    for (const d of docs) (waitingResources.has(resourceOf(d._id)) ? rest : candidates).push(d);
    if (candidates.length === 0) return { rest: docs, applied: 0 };
    const p = await plan(candidates);
    if (p.apply.length === 0) return { rest: docs, applied: 0 };
    await write(p, true);
    const direct = new Set(p.apply);
    return { rest: docs.filter((d) => !direct.has(d)), applied: p.apply.length };
  }

  async function runAll(): Promise<ApplyResult> {
    const total: ApplyResult = { applied: 0, resources: 0, quarantined: 0, waiting: 0 };
    for (;;) {
      const r = await pass();
      total.applied += r.applied;
      total.resources += r.resources;
      total.quarantined += r.quarantined;
      total.waiting = r.waiting;
      if (!r.more) return total;
    }
  }

  return {
    run() {
      if (closed) return Promise.reject(new Error('the applier is closed'));
      const p = tail.then(runAll);
      tail = p.catch(() => undefined);
      return p;
    },
    intake(docs) {
      if (closed) return Promise.reject(new Error('the applier is closed'));
      const p = tail.then(() => intake(docs as unknown as Leaf[]));
      tail = p.catch(() => undefined);
      return p as unknown as Promise<{ rest: PouchDB.Core.PutDocument<object>[]; applied: number }>;
    },
    async quarantine() {
      return [...(await loadQuarantine()).values()];
    },
    settled() {
      if (unsettled.size === 0) return undefined;
      return Promise.all(unsettled).then(() => undefined);
    },
    async close() {
      closed = true;
      await tail;
      await Promise.all(unsettled);
    },
  };
}
