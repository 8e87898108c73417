/**
 * A rebuild killed with SIGKILL in the middle (its first page committed without the search
 * indexes, which a rebuild creates only at its end) leaves an index that the next open
 * recognizes as incomplete: it is recreated empty with its indexes (`reset`), and the
 * rebuild that follows gives every answer the uninterrupted index gave.
 */
import type { Resource } from '@medplum/fhirtypes';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { buildChild, type ChildScript } from '../../store/__fixtures__/build-child';
import { openEncryptedPouch } from '../../store/encrypted-pouch';
import { ResourceStore } from '../../store/resource-store';
import { openIndexDb, type IndexDb } from './index-db';
import { createIndexer } from './indexer';
import { tempIndex, trivialExtract, type TempIndex } from './__fixtures__/rows';

let child: ChildScript;
let t: TempIndex;
const storeKey = randomBytes(32);

beforeAll(async () => {
  child = await buildChild(fileURLToPath(new URL('./__fixtures__/rebuild-child.ts', import.meta.url)));
});
afterAll(() => child.dispose());
beforeEach(() => {
  t = tempIndex();
});
afterEach(() => t.cleanup());

/** Runs the child until it prints its first page, kills it, and returns that line. */
function rebuildAndKill(): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child.script, t.dir, storeKey.toString('hex'), t.key.toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let line = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const first = /^page \d+$/m.exec(out);
      if (first && !line) {
        line = first[0];
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(line) : reject(new Error(`the child ended by itself: ${out} ${err}`))));
  });
}

const patient = (i: number): Resource => ({
  resourceType: 'Patient', id: `p${i}`, name: [{ family: `Fam${i % 50}` }], gender: i % 3 ? 'female' : 'male',
}); // prettier-ignore

/** Answers that need every row and the indexes' order, on any index. */
const answers = (index: IndexDb) => [
  index.count('Patient'),
  index.resolve(index.string('Patient', 'family', 'fam1')).map((k) => k.id).sort(),
  index.token('Patient', 'gender', { code: 'male' }).length,
];

it('a rebuild killed before its end is rebuilt from the start on the next open, with the same answers', async () => {
  const db = await openEncryptedPouch({ file: `${t.dir}/store.db`, key: storeKey });
  const store = new ResourceStore(db, 'wsabcd');
  // 3 pages of the feed (2,000 changes each): 3,000 resources, one version and one head each.
  for (let i = 0; i < 3000; i += 500) {
    await store.commit(Array.from({ length: 500 }, (_, k) => ({ type: 'Patient', id: `p${i + k}`, method: 'PUT' as const, resource: patient(i + k) })), new Map());
  }
  let index = openIndexDb({ file: t.file, key: t.key });
  let indexer = createIndexer({ db, index, extract: trivialExtract });
  await indexer.catchUp();
  const expected = answers(index);
  expect(expected[0]).toBe(3000);
  await indexer.close();
  index.close();
  await db.close();

  expect(await rebuildAndKill()).toBe('page 2000');

  // What the kill left: the first page's rows and checkpoint, the mark, no search index.
  const left = openIndexDb({ file: t.file, key: t.key, keepBuilding: true });
  expect([left.building(), left.count('Patient'), left.checkpoint()]).toEqual([true, 1000, 2000]);
  left.close();

  const db2 = await openEncryptedPouch({ file: `${t.dir}/store.db`, key: storeKey });
  index = openIndexDb({ file: t.file, key: t.key });
  try {
    expect([index.reset, index.building(), index.count('Patient'), index.checkpoint()]).toEqual([true, false, 0, 0]);
    indexer = createIndexer({ db: db2, index, extract: trivialExtract });
    expect(await indexer.rebuild()).toBe(6000);
    expect(index.building()).toBe(false);
    expect(answers(index)).toEqual(expected);
    await indexer.close();
  } finally {
    index.close();
    await db2.close();
  }
});
