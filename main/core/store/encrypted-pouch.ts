/**
 * PouchDB over SQLCipher: pouchdb-adapter-websql-core@7 (PouchDB's last SQLite adapter)
 * driven through the sqlite-websql shim, registered as adapter 'sqlcipher' on pouchdb-core@9
 * with the replication and http plugins, so the same class later syncs with CouchDB.
 * Everything at rest is encrypted: ids, bodies, attachments, _local docs, the WAL
 * (shared/FINDINGS.md, "Encryption at rest").
 *
 * Where things are written: only `<file>`, `<file>-wal`, `<file>-shm` (and, should a
 * map/reduce plugin be added later, its dependent databases `<file>-mrview-*`, which come
 * through this same adapter with the same key, in the same folder). websql-core's other
 * side channel, localStorage, is compiled out of the Node build of pouchdb-utils@7
 * (hasLocalStorage() returns false); SQLite temp files are kept in memory by the shim.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { SqlError, openSqlcipherDatabase, type WebSqlDatabase } from './sqlite-websql';

const require = createRequire(import.meta.url);
// CommonJS packages without type declarations (or, for pouchdb-core, typed as a global).
const PouchDB = require('pouchdb-core') as PouchDB.Static;
const WebSqlPouchCore = require('pouchdb-adapter-websql-core') as AdapterInit;
PouchDB.plugin(require('pouchdb-replication') as PouchDB.Plugin);
PouchDB.plugin(require('pouchdb-adapter-http') as PouchDB.Plugin);

/** The PouchDB class the encrypted stores are made of (http adapter and replication included). */
export const FlintPouchDB: PouchDB.Static = PouchDB;

/** The store file cannot be used: wrong key, a foreign file, or it cannot be opened at all. */
export class StoreOpenError extends Error {
  constructor(message: string, readonly file: string, readonly code: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

const ADAPTER = 'sqlcipher';
// PouchDB clones its options into db.__opts and hands them to dependent databases
// (map/reduce views, destroy), so the key travels there, hex-encoded (clone() does not copy
// Buffers faithfully). Never log db.__opts.
const KEY_OPTION = 'flint_sqlcipher_key';

type Callback = (err?: Error | null, result?: unknown) => void;
type AdapterInit = (this: AdapterApi, opts: Record<string, unknown>, callback: Callback) => void;
interface AdapterApi {
  _close(callback: Callback): void;
  _destroy(opts: unknown, callback: Callback): void;
  _allDocs(opts: unknown, callback: Callback): void;
}

/**
 * websql-core's count of the live documents (countDocs: a COUNT over the join of its two
 * tables, so SQLCipher decrypts every page of both). It runs in every allDocs call for
 * `total_rows`, however few rows are asked for: 0.6 s for a one-row range at 200,000
 * documents (100,000 resources), i.e. on every instance history read. allDocs answers
 * `total_rows: -1` instead (nothing in Flint reads it); info() still counts.
 * store/encrypted-pouch.test.ts checks the installed adapter still sends this statement.
 */
export const COUNT_DOCS_SQL = /^SELECT COUNT\('document-store'\.id\) AS 'num' FROM 'document-store' JOIN 'by-sequence' ON /;
const NO_COUNT_SQL = "SELECT -1 AS 'num'";

/**
 * The handle websql-core is given: after `skipCount()`, the next read transaction opened (the
 * one _allDocs opens, synchronously; the flag is cleared after the call either way) answers
 * the count statement without counting.
 */
function countlessAllDocs(handle: WebSqlDatabase): { handle: WebSqlDatabase; skipCount: (skip?: boolean) => void } {
  let skipNext = false;
  const wrapped: WebSqlDatabase = {
    connectionId: handle.connectionId,
    file: handle.file,
    transaction: (cb, fail, ok) => handle.transaction(cb, fail, ok),
    readTransaction(cb, fail, ok) {
      const skip = skipNext;
      skipNext = false;
      if (!skip) return handle.readTransaction(cb, fail, ok);
      handle.readTransaction(
        (tx) =>
          cb({
            executeSql: (sql, args, onOk, onFail) => tx.executeSql(COUNT_DOCS_SQL.test(sql) ? NO_COUNT_SQL : sql, args, onOk, onFail),
          }),
        fail,
        ok,
      );
    },
    close: () => handle.close(),
  };
  return {
    handle: wrapped,
    skipCount: (skip = true) => {
      skipNext = skip;
    },
  };
}

function storeOpenError(err: unknown, file: string): StoreOpenError {
  if (err instanceof StoreOpenError) return err;
  const code = (err instanceof SqlError && err.sqliteCode) || 'SQLITE_ERROR';
  if (code === 'SQLITE_NOTADB') {
    return new StoreOpenError('the store could not be decrypted: wrong key or not a Flint store', file, code);
  }
  // Messages here come from SQLite or the adapter's setup, which handles no document content.
  return new StoreOpenError(`the store could not be opened: ${(err as Error).message}`, file, code);
}

function SqlcipherPouch(this: AdapterApi, opts: Record<string, unknown>, callback: Callback): void {
  const file = resolve(String(opts['name']));
  const keyHex = opts[KEY_OPTION];
  let handle: WebSqlDatabase;
  try {
    if (typeof keyHex !== 'string') throw new RangeError('a sqlcipher database needs a key');
    handle = openSqlcipherDatabase(file, { key: Buffer.from(keyHex, 'hex') });
  } catch (err) {
    callback(storeOpenError(err, file));
    return;
  }
  // websql-core caches opened databases by name for the life of the process, so the name it
  // sees is the connection's id: a closed-then-reopened file gets a fresh entry instead of a
  // closed handle. Instances sharing a connection share the name, hence live changes.
  const countless = countlessAllDocs(handle);
  WebSqlPouchCore.call(this, { ...opts, name: handle.connectionId, websql: () => countless.handle }, (err) => {
    if (err) {
      void handle.close();
      callback(storeOpenError(err, file));
    } else callback(null, this);
  });

  // Which of these document ids exist (live or deleted), in one read: see knownDocIds().
  Object.defineProperty(this, KNOWN_IDS, {
    enumerable: false,
    value: (ids: readonly string[]) =>
      new Promise<Set<string>>((done, fail) => {
        const known = new Set<string>();
        handle.readTransaction(
          (tx) => {
            for (let i = 0; i < ids.length; i += 500) {
              const chunk = ids.slice(i, i + 500);
              tx.executeSql(`SELECT id FROM "document-store" WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk, (_tx, res) => {
                for (let r = 0; r < res.rows.length; r++) known.add(String(res.rows.item(r)['id']));
              });
            }
          },
          (err) => fail(err),
          () => done(known),
        );
      }),
  });

  // The store's last sequence, one indexed read (info() would also count every document).
  Object.defineProperty(this, UPDATE_SEQ, {
    enumerable: false,
    value: () =>
      new Promise<number>((done, fail) => {
        let seq = 0;
        handle.readTransaction(
          (tx) => tx.executeSql(`SELECT MAX(seq) AS seq FROM "by-sequence"`, [], (_tx, res) => void (seq = Number(res.rows.item(0)['seq'] ?? 0))),
          (err) => fail(err),
          () => done(seq),
        );
      }),
  });

  const allDocs = this._allDocs.bind(this);
  this._allDocs = (allDocsOpts, cb) => {
    countless.skipCount();
    try {
      allDocs(allDocsOpts, cb);
    } finally {
      countless.skipCount(false); // taken by the transaction _allDocs opened (synchronously), if it opened one
    }
  };

  // websql-core's _close is a no-op (browsers own the connection); ours releases the file
  // once queued transactions have run. PouchDB calls _destroy instead of _close on destroy().
  this._close = (cb) => {
    handle.close().then(() => cb(), cb);
  };
  const dropTables = this._destroy.bind(this);
  this._destroy = (destroyOpts, cb) => {
    dropTables(destroyOpts, (err, res) => {
      handle.close().then(() => cb(err, res), cb);
    });
  };
}
SqlcipherPouch.valid = () => true;
SqlcipherPouch.use_prefix = false;

// Not preferred (false): a database only gets this adapter when asked for it by name.
PouchDB.adapter(ADAPTER, SqlcipherPouch, false);

const KNOWN_IDS = Symbol('flint.knownIds');
const UPDATE_SEQ = Symbol('flint.updateSeq');

/**
 * The database's update_seq. On an encrypted store it is one indexed read; db.info() also
 * counts every document (websql-core's countDocs: 0.6 s at 200,000 documents). Other
 * databases answer through info().
 */
export async function updateSeqOf(db: PouchDB.Database): Promise<number | string> {
  const fast = (db as unknown as Record<symbol, (() => Promise<number>) | undefined>)[UPDATE_SEQ];
  if (fast) return fast();
  return (await db.info()).update_seq;
}

/**
 * The ids among `ids` that `db` has a document for (live or deleted). On an encrypted store
 * it is one indexed SQL read; PouchDB's own ways cost more per call: revsDiff reads each
 * document in its own transaction, and allDocs also counts the whole store (websql-core),
 * which grows with it. Other databases answer through allDocs.
 */
export async function knownDocIds(db: PouchDB.Database, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const fast = (db as unknown as Record<symbol, ((ids: readonly string[]) => Promise<Set<string>>) | undefined>)[KNOWN_IDS];
  if (fast) return fast(ids);
  const res = await db.allDocs({ keys: [...ids] });
  return new Set(res.rows.flatMap((row) => ('error' in row && !(row as { value?: unknown }).value ? [] : [row.key])));
}

export interface EncryptedPouchOptions {
  /** The database file; its folder holds every file the store writes. */
  file: string;
  /** 32 random bytes (DataDir.purposeKey('store')). */
  key: Buffer;
}

/**
 * Opens (creating if needed) an encrypted PouchDB database and proves the key by reading it.
 * Throws StoreOpenError on a wrong key or a file that is not a Flint store: never an empty
 * store in its place. Close with db.close(): it resolves once queued transactions have run and
 * the file is closed (unless another open database in this process shares it).
 */
export async function openEncryptedPouch({ file, key }: EncryptedPouchOptions): Promise<PouchDB.Database> {
  if (key.length !== 32) throw new RangeError('the store key must be 32 bytes');
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new PouchDB(path, {
    adapter: ADAPTER,
    // Auto-compaction drops the bodies of non-leaf revisions on each update. Leaves, i.e. the
    // winner and every conflicting revision, are never compacted, and the rev tree keeps
    // every revision id, which is all replication exchanges; resource history lives in
    // explicit version documents (documents.ts), not in old CouchDB revisions. Without it,
    // every superseded body (old PHI included) would stay on disk for ever.
    auto_compaction: true,
    // Random revision ids instead of an MD5 of every document written: CouchDB accepts
    // either, and hashing was a measurable share of bulk-load CPU (docs/benchmarks.md).
    deterministic_revs: false,
    [KEY_OPTION]: key.toString('hex'),
  } as PouchDB.Configuration.DatabaseConfiguration);
  try {
    // Any read fails with the adapter's open error, if any. A local document's get is one
    // indexed read: db.info() would count the whole store (websql-core), which made start-up
    // grow with the data (about 1.8 s of 4 s at 100,000 resources).
    await db.get('_local/flint-open-check').catch((e: { status?: number }) => {
      if (e.status !== 404) throw e;
    });
  } catch (err) {
    throw storeOpenError(err, path);
  }
  return db;
}
