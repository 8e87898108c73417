/**
 * The indexer's rebuild without the search indexes (docs/search-index.md, "Search indexes
 * after the rows"): a rebuild that fails still ends with the indexes built and the mark
 * gone (the rows are behind, and a later catch-up completes them), and the indexes are
 * built on the writer thread only when the rebuild gave it pages.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openEncryptedPouch } from '../../store/encrypted-pouch';
import { ResourceStore } from '../../store/resource-store';
import { openIndexDb, type IndexChange, type IndexDb, type Seq, type TxBookkeeping } from './index-db';
import type { IndexRows } from './index-rows';
import { createIndexer } from './indexer';
import { tempIndex, trivialExtract, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let db: PouchDB.Database;
let index: IndexDb;
let store: ResourceStore;

beforeEach(async () => {
  t = tempIndex();
  db = await openEncryptedPouch({ file: `${t.dir}/store.db`, key: randomBytes(32) });
  store = new ResourceStore(db, 'wsabcd');
  index = openIndexDb({ file: t.file, key: t.key });
});
afterEach(async () => {
  index.close();
  await db.close();
  t.cleanup();
});

const patient = (i: number): Resource => ({ resourceType: 'Patient', id: `p${i}`, name: [{ family: `Fam${i}` }], gender: 'female' });
async function load(n: number, from = 0) {
  for (let i = from; i < from + n; i += 500) {
    const size = Math.min(500, from + n - i);
    await store.commit(Array.from({ length: size }, (_, k) => ({ type: 'Patient', id: `p${i + k}`, method: 'PUT' as const, resource: patient(i + k) })), new Map());
  }
}

it('a rebuild that fails ends with the search indexes built; a later catch-up completes the rows', async () => {
  await load(3000); // three pages of the feed
  let seen = 0;
  const failing = (r: object): IndexRows => {
    if (++seen > 1500) throw new Error('extraction failed'); // in the second page
    return trivialExtract(r);
  };
  const indexer = createIndexer({ db, index, extract: failing });
  await expect(indexer.rebuild()).rejects.toThrow('extraction failed');
  await indexer.close();
  expect(index.building()).toBe(false);
  expect(index.count('Patient')).toBe(1000); // the first page: behind, not wrong
  // The indexes are there: a search uses them, and reopening does not reset.
  expect(index.resolve(index.string('Patient', 'family', 'fam999')).map((k) => k.id)).toEqual(['p999']);
  index.close();
  index = openIndexDb({ file: t.file, key: t.key });
  expect(index.reset).toBe(false);
  const again = createIndexer({ db, index, extract: trivialExtract });
  await again.catchUp();
  await again.close();
  expect(index.count('Patient')).toBe(3000);
  expect(index.resolve(index.string('Patient', 'family', 'fam2999')).map((k) => k.id)).toEqual(['p2999']);
});

it('builds the search indexes on the writer thread when it applied pages, here when it did not', async () => {
  // The thread's connection, opened on its first page as the real thread's is, closed by close().
  let threadSide: IndexDb | undefined;
  const calls: string[] = [];
  const writer = {
    usable: () => true,
    async apply(changes: readonly IndexChange[], checkpoint: Seq, tx?: TxBookkeeping) {
      calls.push('apply');
      threadSide ??= openIndexDb({ file: t.file, key: t.key, keepBuilding: true, checkpointThread: false });
      threadSide.applyBatch(changes, checkpoint, tx);
    },
    async buildSearchIndexes() {
      calls.push('build');
      threadSide!.buildSearchIndexes();
    },
    async close() {
      calls.push('close');
      threadSide?.close();
      threadSide = undefined;
    },
  };
  await load(50); // one small page: applied here
  const indexer = createIndexer({ db, index, extract: trivialExtract, writer });
  expect(await indexer.rebuild()).toBe(100);
  expect([calls, index.building(), index.count('Patient')]).toEqual([['close'], false, 50]);
  await load(1000, 50);
  calls.length = 0;
  expect(await indexer.rebuild()).toBe(2100);
  await indexer.close();
  await writer.close();
  expect([calls[0], calls[1], calls.slice(-2)]).toEqual(['close', 'apply', ['build', 'close']]);
  expect([index.building(), index.count('Patient')]).toEqual([false, 1050]);
  expect(index.resolve(index.string('Patient', 'family', 'fam1049')).map((k) => k.id)).toEqual(['p1049']);
});
