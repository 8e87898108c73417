/**
 * Deferred batches (applyBatch with defer, then commit): this connection sees them at once
 * (read-your-writes), another connection and the file only after commit; a failing
 * deferred batch undoes only itself; a process that dies before commit leaves the last
 * committed state, rows and checkpoint together; other writes and close commit first.
 * WAL checkpoints run on the checkpoint thread, not inside this connection's COMMITs.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync, statSync } from 'node:fs';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openIndexDb, type IndexChange, type IndexDb } from './index-db';
import { until } from '../../../../test/support/until';
import { rows, tempIndex, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let index: IndexDb;
let other: IndexDb | undefined;
beforeEach(() => {
  t = tempIndex();
  index = openIndexDb({ file: t.file, key: t.key });
});
afterEach(() => {
  other?.close();
  other = undefined;
  index.close();
  t.cleanup();
});

const change = (id: string, family = id, param = 'family'): IndexChange => ({
  type: 'Patient', id, vid: '1.ws', lastUpdated: 1,
  rows: rows({ strings: [{ param, value: family, exact: family }] }),
}); // prettier-ignore

it('a deferred batch is visible on its connection at once, elsewhere only once committed', () => {
  index.applyBatch([change('a')], 1);
  index.applyBatch([change('b')], 2, undefined, { defer: true });
  index.applyBatch([change('c')], 3, undefined, { defer: true });
  expect([index.checkpoint(), index.count('Patient')]).toEqual([3, 3]);
  expect(index.string('Patient', 'family', 'c')).toHaveLength(1);

  other = openIndexDb({ file: t.file, key: t.key });
  expect([other.checkpoint(), other.count('Patient')]).toEqual([1, 1]);
  index.commit();
  expect([other.checkpoint(), other.count('Patient')]).toEqual([3, 3]);
  index.commit(); // nothing open: a no-op
});

it('a failing deferred batch undoes itself only; the batches before it stay pending', () => {
  index.applyBatch([change('a')], 1, undefined, { defer: true });
  const bad: IndexChange = { ...change('c'), rows: rows({ strings: [{ param: 'family', value: null as unknown as string, exact: 'c' }] }) };
  expect(() => index.applyBatch([change('b', 'b', 'brand-new'), bad], 2, undefined, { defer: true })).toThrow(/NOT NULL/);
  expect([index.checkpoint(), index.count('Patient')]).toEqual([1, 1]);
  // The param the failed batch interned went with it: interning it again works.
  index.applyBatch([change('b', 'b', 'brand-new')], 3, undefined, { defer: true });
  index.commit();
  index.close();
  index = openIndexDb({ file: t.file, key: t.key });
  expect([index.checkpoint(), index.count('Patient')]).toEqual([3, 2]);
  expect(index.string('Patient', 'brand-new', 'b')).toHaveLength(1);
});

it('uncommitted deferred batches are lost with their checkpoint when the connection dies', () => {
  index.applyBatch([change('a')], 1);
  index.applyBatch([change('b')], 2, undefined, { defer: true });
  // A crash: the file as another process finds it while this one never commits.
  other = openIndexDb({ file: t.file, key: t.key });
  expect([other.checkpoint(), other.resolve(other.ids('Patient', ['a', 'b'])).map((k) => k.id)]).toEqual([1, ['a']]);
});

it('any other write, and close, commit the deferred batches first', () => {
  index.applyBatch([change('a')], 1, undefined, { defer: true });
  index.replace('Patient', 'z', '1.ws', 1, rows({ strings: [{ param: 'family', value: 'z', exact: 'z' }] }));
  other = openIndexDb({ file: t.file, key: t.key });
  expect([other.checkpoint(), other.count('Patient')]).toEqual([1, 2]);
  other.close();
  other = undefined;

  index.applyBatch([change('b')], 2, undefined, { defer: true });
  index.close();
  index = openIndexDb({ file: t.file, key: t.key });
  expect([index.checkpoint(), index.count('Patient')]).toEqual([2, 3]);
});

it('checkpoints the WAL on its thread, never in this connection, and close still removes the WAL', async () => {
  // Reopened under the spy, to see every pragma this connection runs from its start.
  index.close();
  const pragma = vi.spyOn(Database.prototype, 'pragma');
  index = openIndexDb({ file: t.file, key: t.key });
  const empty = statSync(t.file).size;
  const filler = 'x'.repeat(500);
  for (let b = 0; b < 8; b++) {
    const batch = Array.from({ length: 100 }, (_, i) => change(`p${b}-${i}`, `${filler}${b}-${i}`));
    index.applyBatch(batch, b + 1, undefined, { defer: true });
    index.commit();
  }
  // The thread is asked every 1 MiB of WAL (here after the 3rd and 6th commits): at least
  // the first three commits' pages (~0.9 MB) reach index.db. When is the thread's business:
  // on a loaded machine it may have copied them before the loop even ended.
  await until('the committed pages to reach index.db', () => statSync(t.file).size > empty + 500_000);
  // And not from here: this connection's automatic checkpoints are off, and it never ran one.
  const run = pragma.mock.calls.map(([sql]) => String(sql));
  expect(run.filter((sql) => sql.includes('wal_autocheckpoint')).at(-1)).toBe('wal_autocheckpoint = 0');
  expect(run.filter((sql) => sql.includes('wal_checkpoint'))).toEqual([]);
  pragma.mockRestore();
  index.close();
  expect(existsSync(`${t.file}-wal`)).toBe(false);
  index = openIndexDb({ file: t.file, key: t.key });
  expect([index.checkpoint(), index.count('Patient')]).toEqual([8, 800]);
});
