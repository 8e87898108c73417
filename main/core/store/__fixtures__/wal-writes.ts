/**
 * Test helpers for the WAL tests (checkpoint-thread.test.ts and its .stress twin): SQL on
 * a WebSQL connection, and sustained writes that never pause long enough for an idle
 * checkpoint, reporting the largest WAL they saw.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { WAL_LIMIT_BYTES } from '../checkpoint-thread';
import { openSqlcipherDatabase, type WebSqlDatabase } from '../sqlite-websql';

export function sql(db: WebSqlDatabase, statements: Array<[string, unknown[]?]>, read = false): Promise<unknown[]> {
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

export const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);

const PER_COMMIT = 40;
const ROW_BYTES = 4000;
/** One commit is 160 kB of rows; past the limit the next commit starts the WAL over. */
export const WITHIN_ONE_COMMIT = WAL_LIMIT_BYTES + 2 ** 20;

/** Writes twice WAL_LIMIT_BYTES into `dir`/store.db; returns the largest WAL seen after a commit. */
export async function sustainedWrites(dir: string, key: Buffer): Promise<number> {
  const file = join(dir, 'store.db');
  const db = openSqlcipherDatabase(file, { key });
  await sql(db, [['CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)']]);
  const commits = Math.ceil((2 * WAL_LIMIT_BYTES) / (PER_COMMIT * ROW_BYTES));
  let largest = 0;
  for (let c = 0; c < commits; c++) {
    await sql(db, Array.from({ length: PER_COMMIT }, () => ['INSERT INTO t (v) VALUES (?)', [randomBytes(ROW_BYTES)]] as [string, unknown[]]));
    largest = Math.max(largest, size(`${file}-wal`));
  }
  expect(await sql(db, [['SELECT count(*) AS n FROM t']], true)).toEqual([{ n: commits * PER_COMMIT }]);
  await db.close();
  return largest;
}
