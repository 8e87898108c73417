/**
 * The index writer thread (index-writer.ts) with the built worker (dist/index-writer-worker.js;
 * `npm test` builds first) on a real encrypted index file: pages it writes are read on the
 * main connection, params it interns are found after forgetAbsentParams, the main
 * connection can write params the thread interned, and a page it cannot apply is refused
 * whole.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../../../../test/support/workstation';
import { openIndexDb, type IndexChange, type IndexDb } from './index-db';
import { indexWriterThread, type IndexWriterThread } from './index-writer';
import { rows, tempIndex, type TempIndex } from './__fixtures__/rows';

const WORKER = join(REPO, 'dist', 'index-writer-worker.js');
const HASH = 'test-definitions';
let t: TempIndex;
let index: IndexDb;
let writer: IndexWriterThread;

beforeEach(() => {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`node scripts/build.mjs\` (npm test does) before this test`);
  t = tempIndex();
  index = openIndexDb({ file: t.file, key: t.key, definitionsHash: HASH });
  writer = indexWriterThread({ file: index.file, key: t.key, definitionsHash: HASH, workerFile: WORKER })!;
});
afterEach(async () => {
  await writer.close();
  index.close();
  t.cleanup();
});

const patient = (id: string, mrn: string): IndexChange => ({
  type: 'Patient',
  id,
  vid: '1.ws',
  lastUpdated: 1000,
  rows: rows({ tokens: [{ param: 'identifier', system: 'http://hospital/mrn', code: mrn, text: null }] }),
  conflict: null,
});

describe('the index writer thread', () => {
  it('writes pages the main connection reads, params included once it forgets what it saw absent', async () => {
    const reviewed = { system: 'urn:x', code: 'reviewed' };
    expect(index.duplicates(reviewed)).toEqual([]); // caches the param "identifier" as absent
    await writer.apply([patient('a', 'M1'), patient('b', 'M1'), patient('c', 'M2')], 42);
    expect(index.count('Patient')).toBe(3);
    expect(index.checkpoint()).toBe(42);
    index.forgetAbsentParams();
    expect(index.duplicates(reviewed).map((d) => d.patients.map((p) => p.id))).toEqual([['a', 'b']]);
  });

  it('lets the main connection write a param the thread interned while it held it as absent', async () => {
    expect(index.duplicates({ system: 'urn:x', code: 'r' })).toEqual([]);
    await writer.apply([patient('a', 'M1')], 1);
    // No forgetAbsentParams here: writing must not trust the stale "absent" (UNIQUE would fail).
    expect(() => index.applyBatch([patient('b', 'M1')], 2)).not.toThrow();
    expect(index.count('Patient')).toBe(2);
  });

  it('refuses a page it cannot apply, whole, and goes on with the next', async () => {
    const broken = { ...patient('y', 'M9'), type: null } as unknown as IndexChange; // NOT NULL on resource.type
    await expect(writer.apply([patient('ok1', 'M3'), broken], 7)).rejects.toThrow(/could not apply a page/);
    expect(index.count('Patient')).toBe(0);
    expect(index.checkpoint()).toBe(0);
    await writer.apply([patient('ok2', 'M4'), patient('ok3', 'M5')], 8);
    expect(index.count('Patient')).toBe(2);
    expect(writer.usable()).toBe(true);
  });
});
