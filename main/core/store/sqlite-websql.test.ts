import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SQL_REWRITES,
  SqlError,
  openSqlcipherDatabase,
  type SqlResultSet,
  type WebSqlDatabase,
  type WebSqlTransaction,
} from './sqlite-websql';

let dir: string;
let key: Buffer;
const open: WebSqlDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-websql-'));
  key = randomBytes(32);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
  rmSync(dir, { recursive: true, force: true });
});

function openDb(file = join(dir, 'a.db'), k = key): WebSqlDatabase {
  const db = openSqlcipherDatabase(file, { key: k });
  open.push(db);
  return db;
}

/** Runs a transaction; resolves 'ok' or the SqlError it reported. */
function run(db: WebSqlDatabase, cb: (tx: WebSqlTransaction) => void, read = false): Promise<'ok' | SqlError> {
  return new Promise((done) => (read ? db.readTransaction : db.transaction)(cb, done, () => done('ok')));
}

async function query(db: WebSqlDatabase, sql: string, args: unknown[] = []): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  const outcome = await run(db, (tx) =>
    tx.executeSql(sql, args, (_tx, rs) => {
      rows = Array.from({ length: rs.rows.length }, (_, i) => rs.rows.item(i));
    }),
  );
  if (outcome !== 'ok') throw outcome;
  return rows;
}

async function seed(db: WebSqlDatabase): Promise<void> {
  expect(await run(db, (tx) => tx.executeSql('CREATE TABLE t (id TEXT UNIQUE, v)'))).toBe('ok');
}

describe('sqlite-websql shim', () => {
  it('runs transactions off the caller tick and reports result sets as WebSQL does', async () => {
    const db = openDb();
    await seed(db);
    let ran = false;
    let insert: SqlResultSet | undefined;
    const done = run(db, (tx) => {
      ran = true;
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 1], (_tx, rs) => (insert = rs));
    });
    expect(ran).toBe(false);
    expect(await done).toBe('ok');
    expect(insert?.rowsAffected).toBe(1);
    expect(insert?.insertId).toBe(1);
    expect(await query(db, 'SELECT id, v FROM t')).toEqual([{ id: 'a', v: 1 }]);
  });

  it('runs statements queued from callbacks inside the same transaction', async () => {
    const db = openDb();
    await seed(db);
    const outcome = await run(db, (tx) => {
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 1], (tx2) => {
        tx2.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['b', 2], (tx3) => {
          tx3.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 3]); // unique violation
        });
      });
    });
    expect(outcome).toBeInstanceOf(SqlError);
    expect((outcome as SqlError).code).toBe(6);
    expect(await query(db, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('rolls back everything when a statement fails without a handling error callback', async () => {
    const db = openDb();
    await seed(db);
    const outcome = await run(db, (tx) => {
      for (let i = 0; i < 1000; i++) tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', [`d${i}`, i]);
      // An error callback that does not return exactly false does not handle the error.
      tx.executeSql('INSERT INTO missing_table VALUES (1)', [], undefined, () => true);
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['after', 0]);
    });
    expect(outcome).toBeInstanceOf(SqlError);
    expect(await query(db, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('goes on when the error callback returns false', async () => {
    const db = openDb();
    await seed(db);
    const outcome = await run(db, (tx) => {
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 1]);
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 2], undefined, () => false);
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['b', 3]);
    });
    expect(outcome).toBe('ok');
    expect(await query(db, 'SELECT id, v FROM t ORDER BY id')).toEqual([{ id: 'a', v: 1 }, { id: 'b', v: 3 }]);
  });

  it('rolls back when a callback throws, without putting its message in the error', async () => {
    const db = openDb();
    await seed(db);
    const outcome = await run(db, (tx) => {
      tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 1], () => {
        throw new Error('secret patient name');
      });
    });
    expect(outcome).toBeInstanceOf(SqlError);
    expect((outcome as SqlError).message).not.toContain('patient');
    expect(await query(db, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('serializes transactions: a reader queued behind a writer sees all of it or none', async () => {
    const db = openDb();
    await seed(db);
    const counts: number[] = [];
    const reads: Promise<unknown>[] = [];
    const write = run(db, (tx) => {
      for (let i = 0; i < 2000; i++) tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', [`d${i}`, i]);
    });
    for (let i = 0; i < 5; i++) {
      reads.push(query(db, 'SELECT count(*) AS n FROM t').then((r) => counts.push(r[0]?.['n'] as number)));
    }
    await Promise.all([write, ...reads]);
    expect(counts).toEqual([2000, 2000, 2000, 2000, 2000]);
  });

  it('refuses statements on a finished transaction', async () => {
    const db = openDb();
    let saved: WebSqlTransaction | undefined;
    expect(await run(db, (tx) => (saved = tx), true)).toBe('ok');
    expect(() => saved?.executeSql('SELECT 1')).toThrow(/InvalidStateError/);
  });

  it('coerces booleans and undefined like WebSQL', async () => {
    const db = openDb();
    await seed(db);
    await run(db, (tx) => tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', [true, undefined]));
    await run(db, (tx) => tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', [{ toString: () => 'obj' }, false]));
    expect(await query(db, 'SELECT id, v FROM t ORDER BY id')).toEqual([{ id: '1', v: null }, { id: 'obj', v: 0 }]);
  });

  it('uses WAL, synchronous=FULL, in-memory temp storage and SQLCipher', async () => {
    const db = openDb();
    expect(await query(db, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await query(db, 'PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
    expect(await query(db, 'PRAGMA temp_store')).toEqual([{ temp_store: 2 }]);
    expect(await query(db, "SELECT sqlite3mc_config('cipher') AS cipher")).toEqual([{ cipher: 'sqlcipher' }]);
    expect(statSync(join(dir, 'a.db')).mode & 0o777).toBe(0o600);
  });

  it('rewrites the adapter probe SELECT HEX("a")', async () => {
    const db = openDb();
    expect(await query(db, 'SELECT HEX("a") AS hex')).toEqual([{ hex: '61' }]);
  });

  it('knows every double-quoted SQL string literal of the installed websql-core', () => {
    const require = createRequire(import.meta.url);
    const lib = dirname(require.resolve('pouchdb-adapter-websql-core'));
    const found = new Set<string>();
    for (const file of ['index.js', 'index.es.js']) {
      const source = readFileSync(join(lib, file), 'utf8');
      // Single-quoted JS literals containing a double quote that look like SQL.
      for (const [literal] of source.matchAll(/'[^'\n]*"[^'\n]*'/g)) {
        if (/\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WHERE|FROM)\b/.test(literal)) found.add(literal.slice(1, -1));
      }
    }
    expect([...found].sort()).toEqual([...SQL_REWRITES.keys()].sort());
  });

  it('shares one connection per file and refuses another key for it', async () => {
    const a = openDb();
    const b = openDb();
    expect(b.connectionId).toBe(a.connectionId);
    expect(() => openDb(join(dir, 'a.db'), randomBytes(32))).toThrow(/not a database/);
    await seed(a);
    expect(await query(b, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('closes after queued transactions ran; a reopened file gets a new connection', async () => {
    const db = openSqlcipherDatabase(join(dir, 'a.db'), { key });
    await seed(db);
    const write = run(db, (tx) => tx.executeSql('INSERT INTO t (id, v) VALUES (?, ?)', ['a', 1]));
    await db.close();
    expect(await write).toBe('ok');
    expect(await run(db, (tx) => tx.executeSql('SELECT 1'))).toBeInstanceOf(SqlError);
    const again = openDb();
    expect(again.connectionId).not.toBe(db.connectionId);
    expect(await query(again, 'SELECT id FROM t')).toEqual([{ id: 'a' }]);
  });

  it('fails to open with a wrong key (SQLITE_NOTADB) and leaves the file alone', async () => {
    const db = openSqlcipherDatabase(join(dir, 'a.db'), { key });
    await seed(db);
    await db.close();
    const before = readFileSync(join(dir, 'a.db'));
    let error: unknown;
    try {
      openSqlcipherDatabase(join(dir, 'a.db'), { key: randomBytes(32) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SqlError);
    expect((error as SqlError).sqliteCode).toBe('SQLITE_NOTADB');
    expect(readFileSync(join(dir, 'a.db')).equals(before)).toBe(true);
  });
});
