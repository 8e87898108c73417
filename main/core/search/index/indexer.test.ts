/**
 * The indexer against a real encrypted PouchDB (random key, temp dir, no keychain):
 * heads written through the store get indexed, deletions remove rows, a restart resumes
 * from the checkpoint, and transaction-marked documents wait until the whole transaction
 * (as a replica might receive it, piecemeal) is there.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { headId, versionId, type HeadDoc, type TxMark, type VersionDoc } from '../../store/documents';
import { openEncryptedPouch } from '../../store/encrypted-pouch';
import { ResourceStore } from '../../store/resource-store';
import { openIndexDb, type IndexChange, type IndexDb, type Seq, type TxBookkeeping } from './index-db';
import { COMMIT_DELAY_MS, createIndexer, type Indexer } from './indexer';
import { tempIndex, trivialExtract, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let db: PouchDB.Database;
let index: IndexDb;
let indexer: Indexer;
let store: ResourceStore;

const open = () => {
  index = openIndexDb({ file: t.file, key: t.key });
  indexer = createIndexer({ db, index, extract: trivialExtract });
};
beforeEach(async () => {
  t = tempIndex();
  db = await openEncryptedPouch({ file: `${t.dir}/store.db`, key: randomBytes(32) });
  store = new ResourceStore(db, 'wsabcd');
  open();
});
afterEach(async () => {
  await indexer.close();
  index.close();
  await db.close();
  t.cleanup();
});

const patient = (id: string, family: string): Resource => ({ resourceType: 'Patient', id, name: [{ family }], gender: 'female' });
const families = (prefix: string) => index.resolve(index.string('Patient', 'family', prefix)).map((k) => k.id);

async function put(id: string, family: string) {
  const heads = await store.heads([{ type: 'Patient', id }]);
  return store.commit([{ type: 'Patient', id, method: 'PUT', resource: patient(id, family) }], heads);
}

describe('catching up', () => {
  it('indexes heads written through the store, replaces versions, removes deletions', async () => {
    await put('p1', 'Smith');
    await put('p2', 'Smythe');
    expect(await indexer.catchUp()).toBe(4); // two versions, two heads
    expect(families('sm')).toEqual(['p1', 'p2']);
    expect(index.listIds('Patient', undefined, 10).map((r) => r.vid)).toEqual(['1.wsabcd', '1.wsabcd']);

    await put('p1', 'Jones');
    await indexer.catchUp();
    expect(families('sm')).toEqual(['p2']);
    expect(families('jo')).toEqual(['p1']);

    const heads = await store.heads([{ type: 'Patient', id: 'p2' }]);
    await store.commit([{ type: 'Patient', id: 'p2', method: 'DELETE' }], heads);
    await indexer.catchUp();
    expect(families('sm')).toEqual([]);
    expect(index.count('Patient')).toBe(1);
    expect(index.missing('Patient', 'gender', false)).toHaveLength(1);
    expect(await indexer.catchUp()).toBe(0); // nothing new
  });

  it('pages through more than one batch of changes', async () => {
    const writes = Array.from({ length: 300 }, (_, i) => ({ type: 'Patient', id: `p${i}`, method: 'PUT' as const, resource: patient(`p${i}`, `F${i}`) }));
    await store.commit(writes, new Map()); // 600 documents, one transaction
    expect(await indexer.catchUp()).toBe(600);
    expect(index.count('Patient')).toBe(300);
  });

  it('a restart resumes from the checkpoint instead of reprocessing everything', async () => {
    for (let i = 0; i < 20; i++) await put(`p${i}`, `F${i}`);
    await indexer.catchUp();
    const checkpoint = index.checkpoint();
    await indexer.close();
    index.close();

    await put('late', 'Late');
    open();
    expect(index.checkpoint()).toBe(checkpoint);
    expect(await indexer.catchUp()).toBe(2); // just the late write's version and head
    expect(index.count('Patient')).toBe(21);
  });

  it('concurrent callers share runs, and each sees its own write afterwards', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await put(`c${i}`, `Conc${i}`);
        await indexer.catchUp();
        return index.ids('Patient', [`c${i}`]).length;
      }),
    );
    expect(results).toEqual(Array(10).fill(1));
    const info = await db.info();
    await indexer.waitFor(info.update_seq);
    expect(index.checkpoint()).toBe(info.update_seq);
  });

  it('commits what it indexed to the file within COMMIT_DELAY_MS, and on close', async () => {
    await put('p1', 'Smith');
    await indexer.catchUp();
    expect(families('sm')).toEqual(['p1']); // read-your-writes, on this connection
    const other = openIndexDb({ file: t.file, key: t.key });
    try {
      expect(other.count('Patient')).toBe(0); // not committed yet
      await new Promise((r) => setTimeout(r, COMMIT_DELAY_MS + 50));
      expect([other.count('Patient'), other.checkpoint()]).toEqual([1, index.checkpoint()]);
      await put('p2', 'Smythe');
      await indexer.catchUp();
      await indexer.close();
      expect(other.count('Patient')).toBe(2);
    } finally {
      other.close();
    }
    open();
  });

  it('reads the next page while the writer thread applies one, carrying its transaction bookkeeping', async () => {
    // Page 1: 250 single writes (large enough for the thread) and the start of a 1,000-write
    // transaction; page 2: the rest of it. Page 2 is read while page 1 is still being
    // applied, so the versions page 1 saw must count although they are not in the index yet.
    for (let i = 0; i < 250; i++) await put(`s${i}`, `S${i}`);
    const big = Array.from({ length: 1000 }, (_, i) => ({ type: 'Patient', id: `t${i}`, method: 'PUT' as const, resource: patient(`t${i}`, `T${i}`) }));
    await store.commit(big, new Map());
    await indexer.close();
    const threadSide = openIndexDb({ file: t.file, key: t.key });
    const applied: number[] = [];
    const writer = {
      usable: () => true,
      async apply(changes: readonly IndexChange[], checkpoint: Seq, tx?: TxBookkeeping) {
        await new Promise((r) => setTimeout(r, 200)); // long enough for the next page to be read
        threadSide.applyBatch(changes, checkpoint, tx);
        applied.push(changes.length);
      },
      buildSearchIndexes: async () => threadSide.buildSearchIndexes(),
      close: async () => undefined,
    };
    indexer = createIndexer({ db, index, extract: trivialExtract, writer });
    try {
      expect(await indexer.catchUp()).toBe(2500);
      expect(applied[0]).toBeGreaterThanOrEqual(250);
      expect(index.count('Patient')).toBe(1250);
      expect(families('t999')).toEqual(['t999']);
    } finally {
      await indexer.close();
      threadSide.close();
    }
    open();
  });

  it('rebuild clears and indexes everything again, reporting progress', async () => {
    for (let i = 0; i < 5; i++) await put(`p${i}`, `F${i}`);
    await indexer.catchUp();
    const progress: number[] = [];
    expect(await indexer.rebuild((p) => progress.push(p.processed))).toBe(10);
    expect(progress.at(-1)).toBe(10);
    expect(index.count('Patient')).toBe(5);
  });
});

describe('transactions (documents marked tx {id, size})', () => {
  /** A version and a head as the store writes them, for writing piecemeal like replication. */
  function docs(id: string, n: number, family: string, tx?: TxMark): [VersionDoc, HeadDoc] {
    const vid = `${n}.remote`;
    const resource = { ...patient(id, family), meta: { versionId: vid } } as Resource;
    const rec = { type: 'Patient', id, vid, n, ts: `2024-01-01T00:00:0${n}.000Z`, method: 'PUT' as const, deleted: false, resource, ...(tx ? { tx } : {}) };
    return [
      { ...rec, _id: versionId('Patient', id, vid), kind: 'version' },
      { ...rec, _id: headId('Patient', id), kind: 'head' },
    ];
  }
  const write = async (...list: Array<VersionDoc | HeadDoc>) => {
    for (const d of list) {
      const prev = d.kind === 'head' ? await db.get(d._id).catch(() => undefined) : undefined;
      await db.put({ ...d, ...(prev ? { _rev: prev._rev } : {}) } as unknown as PouchDB.Core.PutDocument);
    }
  };

  it('indexes a transaction only once all its documents have arrived', async () => {
    const tx = { id: 'tx-1', size: 4 };
    const [va, ha] = docs('a', 1, 'Alpha', tx);
    const [vb, hb] = docs('b', 1, 'Beta', tx);
    await write(va, ha, vb); // b's head has not arrived yet
    await indexer.catchUp();
    expect(index.count('Patient')).toBe(0);
    expect(index.pendingTx('tx-1')?.versions.map((v) => v.id)).toEqual(['a', 'b']);

    await write(hb);
    await indexer.catchUp();
    expect(families('')).toEqual(['a', 'b']);
    expect(index.pendingTx('tx-1')).toBeUndefined();
    expect(index.txDone('tx-1')).toBe(true);
  });

  it('a transaction whose versions arrive after its heads waits for them', async () => {
    const tx = { id: 'tx-2', size: 4 };
    const [va, ha] = docs('a', 1, 'Alpha', tx);
    const [vb, hb] = docs('b', 1, 'Beta', tx);
    await write(ha, hb, va);
    await indexer.catchUp();
    expect(index.count('Patient')).toBe(0);
    await write(vb);
    await indexer.catchUp();
    expect(families('')).toEqual(['a', 'b']);
  });

  it('a head replaced after the transaction does not keep the transaction pending', async () => {
    const tx = { id: 'tx-3', size: 4 };
    const [va, ha] = docs('a', 1, 'Alpha', tx);
    const [vb, hb] = docs('b', 1, 'Beta', tx);
    const [va2, ha2] = docs('a', 2, 'Alpha2');
    await write(va, ha, vb, hb, va2, ha2); // the feed now shows a's head only at version 2
    await indexer.catchUp();
    expect(families('')).toEqual(['a', 'b']);
    expect(families('alpha2')).toEqual(['a']);
    expect(index.txDone('tx-3')).toBe(true);
  });
});
