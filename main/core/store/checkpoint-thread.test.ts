/**
 * The store's WAL is checkpointed by the checkpoint thread (checkpoint-thread.ts): once
 * the connection is idle the main file receives the committed pages while the connection
 * goes on writing and reading, and close still leaves the main file alone and complete.
 * Past WAL_LIMIT_BYTES the writer brings the WAL back itself (WalBound); the same bound on
 * a machine whose every core is busy is in checkpoint-thread.stress.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { until } from '../../../test/support/until';
import { WAL_LIMIT_BYTES, startCheckpointThread } from './checkpoint-thread';
import { openSqlcipherDatabase } from './sqlite-websql';
import { WITHIN_ONE_COMMIT, size, sql, sustainedWrites } from './__fixtures__/wal-writes';

let dir: string;
let key: Buffer;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-ckpt-'));
  key = randomBytes(32);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('checkpoints the WAL into the main file when the connection is idle, beside its reads and writes', async () => {
  const file = join(dir, 'store.db');
  const pragma = vi.spyOn(Database.prototype, 'pragma'); // from the connection's start
  const db = openSqlcipherDatabase(file, { key });
  await sql(db, [['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)']]);
  const empty = size(file);
  const filler = 'x'.repeat(2000);
  for (let b = 0; b < 5; b++) await sql(db, Array.from({ length: 40 }, (_, i) => ['INSERT INTO t (v) VALUES (?)', [`${b}-${i}-${filler}`]] as [string, unknown[]]));
  // Once idle (on a loaded machine, maybe between two of those commits already).
  await until('~400 kB of rows to reach the main file', () => size(file) > empty + 300_000);
  // ...by the thread: this connection's automatic checkpoints are off, and it ran none.
  const run = pragma.mock.calls.map(([s]) => String(s));
  expect(run.filter((s) => s.includes('wal_autocheckpoint')).at(-1)).toBe('wal_autocheckpoint = 0');
  expect(run.filter((s) => s.includes('wal_checkpoint'))).toEqual([]);
  pragma.mockRestore();
  await sql(db, [['INSERT INTO t (v) VALUES (?)', ['after']]]);
  expect(await sql(db, [['SELECT count(*) AS n FROM t']], true)).toEqual([{ n: 201 }]);
  await db.close();
  expect(existsSync(`${file}-wal`)).toBe(false); // the last connection to close checkpointed and removed it

  const again = openSqlcipherDatabase(file, { key });
  expect(await sql(again, [['SELECT count(*) AS n FROM t']], true)).toEqual([{ n: 201 }]);
  await again.close();
});

it('a thread that cannot open the file reports itself unusable and closes cleanly', async () => {
  const thread = startCheckpointThread(join(dir, 'missing', 'nowhere.db'), key);
  thread.request();
  await until('the thread to report itself unusable', () => !thread.usable());
  await thread.close();
});

it('keeps the WAL within one commit of WAL_LIMIT_BYTES under sustained writes, which the thread alone cannot (it never copies the last frames)', async () => {
  const largest = await sustainedWrites(dir, key);
  expect(largest).toBeGreaterThan(WAL_LIMIT_BYTES / 2);
  expect(largest).toBeLessThan(WITHIN_ONE_COMMIT);
}, 120_000);
