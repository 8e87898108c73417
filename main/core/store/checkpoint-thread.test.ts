/**
 * The store's WAL is checkpointed by the checkpoint thread (checkpoint-thread.ts): once
 * the connection is idle the main file receives the committed pages while the connection
 * goes on writing and reading, and close still leaves the main file alone and complete.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { WAL_LIMIT_BYTES, startCheckpointThread } from './checkpoint-thread';
import { openSqlcipherDatabase, type WebSqlDatabase } from './sqlite-websql';

let dir: string;
let key: Buffer;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-ckpt-'));
  key = randomBytes(32);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sql(db: WebSqlDatabase, statements: Array<[string, unknown[]?]>, read = false): Promise<unknown[]> {
  const out: unknown[] = [];
  return new Promise((ok, fail) =>
    (read ? db.readTransaction : db.transaction)(
      (tx) => {
        for (const [s, args] of statements) tx.executeSql(s, args ?? [], (_t, rs) => void out.push(...Array.from({ length: rs.rows.length }, (_, i) => rs.rows.item(i))));
      },
      fail,
      () => ok(out),
    ),
  );
}

const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

it('checkpoints the WAL into the main file when the connection is idle, beside its reads and writes', async () => {
  const file = join(dir, 'store.db');
  const db = openSqlcipherDatabase(file, { key });
  await sql(db, [['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)']]);
  const filler = 'x'.repeat(2000);
  for (let b = 0; b < 5; b++) await sql(db, Array.from({ length: 40 }, (_, i) => ['INSERT INTO t (v) VALUES (?)', [`${b}-${i}-${filler}`]] as [string, unknown[]]));
  const before = size(file);
  const pragma = vi.spyOn(Database.prototype, 'pragma');
  expect(await until(() => size(file) > before + 300_000)).toBe(true); // ~400 kB of rows reached the main file
  // ...by the thread: this thread's connections ran no checkpoint.
  expect(pragma.mock.calls.filter(([s]) => String(s).includes('wal_checkpoint'))).toEqual([]);
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
  expect(await until(() => !thread.usable())).toBe(true);
  await thread.close();
});

/** Writes twice WAL_LIMIT_BYTES in commits that never pause long enough for an idle checkpoint. */
async function sustainedWrites(): Promise<number> {
  const file = join(dir, 'store.db');
  const db = openSqlcipherDatabase(file, { key });
  await sql(db, [['CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)']]);
  const perCommit = 40;
  const row = 4000;
  const commits = Math.ceil((2 * WAL_LIMIT_BYTES) / (perCommit * row));
  let largest = 0;
  for (let c = 0; c < commits; c++) {
    await sql(db, Array.from({ length: perCommit }, () => ['INSERT INTO t (v) VALUES (?)', [randomBytes(row)]] as [string, unknown[]]));
    largest = Math.max(largest, size(`${file}-wal`));
  }
  expect(await sql(db, [['SELECT count(*) AS n FROM t']], true)).toEqual([{ n: commits * perCommit }]);
  await db.close();
  return largest;
}

// One commit here is 160 kB of rows; past the limit the next commit starts the WAL over.
const WITHIN_ONE_COMMIT = WAL_LIMIT_BYTES + 2 ** 20;

it('keeps the WAL within one commit of WAL_LIMIT_BYTES under sustained writes, which the thread alone cannot (it never copies the last frames)', async () => {
  const largest = await sustainedWrites();
  expect(largest).toBeGreaterThan(WAL_LIMIT_BYTES / 2);
  expect(largest).toBeLessThan(WITHIN_ONE_COMMIT);
}, 120_000);

it('keeps that bound when every core is busy, where the thread is never idle between two requests', async () => {
  // Before the writer waited for the thread (WalBound), this reached 163 MB: CI's red run.
  const spinners = Array.from({ length: availableParallelism() + 1 }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  try {
    expect(await sustainedWrites()).toBeLessThan(WITHIN_ONE_COMMIT);
  } finally {
    for (const s of spinners) s.kill('SIGKILL');
  }
}, 180_000);
