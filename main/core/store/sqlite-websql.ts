/**
 * A WebSQL-shaped facade over better-sqlite3-multiple-ciphers (SQLCipher format), with the
 * surface pouchdb-adapter-websql-core@7 uses: openDatabase -> (read)transaction -> executeSql.
 *  - One SQLite connection per file per process (a process-wide, reference-counted registry).
 *  - Transactions run one at a time, off the caller's tick (setImmediate, as in WebSQL), as
 *    BEGIN IMMEDIATE..COMMIT (reads: DEFERRED): a PouchDB bulkDocs is atomic and no reader
 *    sees part of it. Statements queued from callbacks join the running transaction; a
 *    failing statement whose error callback does not return exactly `false` (the WebSQL
 *    rule) rolls it all back and reports to the transaction's error callback.
 *  - WAL + synchronous=FULL: the success callback runs after COMMIT was fsynced.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { timingSafeEqual } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { WAL_LIMIT_BYTES, WalBound, startCheckpointThread, type CheckpointThread } from './checkpoint-thread';

/**
 * SQL that pouchdb-adapter-websql-core@7 sends and this SQLite build rejects, rewritten at
 * prepare time: better-sqlite3 compiles SQLite with SQLITE_DQS=0, so "a" is a column name.
 * Its lib/index.js and lib/index.es.js hold one such literal (checkEncoding); the test
 * re-scans the installed adapter, so an upgrade adding another fails. Targeted: a blind
 * "..." -> '...' pass would also hit legitimately quoted identifiers.
 */
export const SQL_REWRITES: ReadonlyMap<string, string> = new Map([
  ['SELECT HEX("a") AS hex', "SELECT HEX('a') AS hex"],
]);

/**
 * WebSQL's SQLError: code 1 DATABASE_ERR, 6 CONSTRAINT_ERR, 0 UNKNOWN_ERR (a callback threw).
 * Also thrown by openSqlcipherDatabase; sqliteCode SQLITE_NOTADB = wrong key or not a database.
 */
export class SqlError extends Error {
  constructor(message: string, readonly code: number, readonly sqliteCode?: string) {
    super(message);
    this.name = 'SqlError';
  }
}

export type SqlRow = Record<string, unknown>;
export type SqlRows = { length: number; item(index: number): SqlRow };
export type SqlResultSet = { rows: SqlRows; insertId: number | undefined; rowsAffected: number };
export type StatementCallback = (tx: WebSqlTransaction, result: SqlResultSet) => void;
/** Return exactly `false` to mark the error handled and keep the transaction going. */
export type StatementErrorCallback = (tx: WebSqlTransaction, error: SqlError) => boolean | void;
export type TransactionCallback = (tx: WebSqlTransaction) => void;
type TransactionErrorCallback = (error: SqlError) => void;
export interface WebSqlTransaction {
  executeSql(sql: string, args?: readonly unknown[], ok?: StatementCallback, fail?: StatementErrorCallback): void;
}
export interface WebSqlDatabase {
  /** Identifies the underlying connection: a file closed and reopened gets a new one. */
  readonly connectionId: string;
  readonly file: string;
  transaction(cb: TransactionCallback, fail?: TransactionErrorCallback, ok?: () => void): void;
  readTransaction(cb: TransactionCallback, fail?: TransactionErrorCallback, ok?: () => void): void;
  /** Releases this handle; the connection closes when no handle is left and its queue is drained. */
  close(): Promise<void>;
}
export interface SqlcipherOptions {
  /** Raw 32-byte SQLCipher key: used as is, no KDF (the key is already uniformly random). */
  key: Buffer;
}
type PendingTx = { readOnly: boolean; cb: TransactionCallback; fail?: TransactionErrorCallback; ok?: () => void };
type Queued = [sql: string, args: readonly unknown[], ok?: StatementCallback, fail?: StatementErrorCallback];

const NO_ROWS: SqlRows = { length: 0, item: () => { throw new RangeError('no rows'); } }; // prettier-ignore
const connections = new Map<string, Connection>();
let connectionSeq = 0;

const CHECKPOINT_EVERY = 200;
const CHECKPOINT_IDLE_MS = 250;

class Connection {
  readonly id = `${++connectionSeq}`;
  refs = 0;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queue: PendingTx[] = [];
  private readonly closeWaiters: Array<() => void> = [];
  private scheduled = false;
  private closed = false;
  private finished = false;
  /** Commits since the WAL was last checkpointed, and the idle timer that will do it. */
  private uncheckpointed = 0;
  /** Keeps the WAL bounded under sustained and large writes. */
  private readonly walBound: WalBound;
  private checkpointTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly db: Database.Database,
    readonly key: Buffer,
    private readonly checkpointer?: CheckpointThread,
  ) {
    this.walBound = new WalBound(db, file, checkpointer);
  }

  acquire(): void {
    // Reopened while a close was draining: the connection stays; the closer is done.
    if (this.refs++ === 0) for (const done of this.closeWaiters.splice(0)) done();
  }

  release(): Promise<void> {
    if (--this.refs > 0) return Promise.resolve();
    const closed = new Promise<void>((done) => this.closeWaiters.push(done));
    this.schedule();
    return closed;
  }

  enqueue(tx: PendingTx): void {
    if (this.closed || this.refs === 0) {
      if (tx.fail) setImmediate(tx.fail, new SqlError('database is closed', 1));
    } else {
      this.queue.push(tx);
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.queue.shift();
      if (next) this.run(next);
      if (this.queue.length) this.schedule();
      else if (this.refs === 0) this.closeNow();
    });
  }

  private closeNow(): void {
    if (this.closed) {
      // Still closing (the checkpoint thread first): finish() answers the waiters.
      if (this.finished) for (const done of this.closeWaiters.splice(0)) done();
      return;
    }
    this.closed = true;
    clearTimeout(this.checkpointTimer);
    connections.delete(this.file);
    const finish = () => {
      this.statements.clear();
      this.key.fill(0);
      this.db.close(); // the last connection checkpoints the WAL and removes -wal/-shm
      this.finished = true;
      for (const done of this.closeWaiters.splice(0)) done();
    };
    // The checkpoint thread's connection goes first, so that this one is the last.
    if (this.checkpointer) void this.checkpointer.close().finally(finish);
    else finish();
  }

  private run({ readOnly, cb, fail, ok }: PendingTx): void {
    const statements: Queued[] = [];
    let finished = false;
    const tx: WebSqlTransaction = {
      executeSql(sql, args = [], onOk, onFail) {
        // As in WebSQL (InvalidStateError): a late statement would run outside its atomic unit.
        if (finished) throw new Error('InvalidStateError: executeSql on a finished transaction');
        statements.push([sql, args, onOk, onFail]);
      },
    };
    let error: SqlError | undefined;
    try {
      this.db.exec(readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE');
      cb(tx);
      error = this.drain(tx, statements);
      if (!error) this.db.exec('COMMIT');
    } catch (err) {
      error = toSqlError(err); // BEGIN/COMMIT failed, or a callback threw: WebSQL rolls back
    }
    finished = true;
    if (!error) {
      if (!readOnly) this.afterCommit();
      if (ok) invokeUser(ok);
      return;
    }
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    if (fail) invokeUser(() => fail(error));
    // WebSQL is silent without an error callback; make the rollback visible (SQLite's text only).
    else process.emitWarning(`WebSQL transaction rolled back: ${error.message}`, 'FlintStoreWarning');
  }

  /**
   * WAL checkpoints run when the connection is idle rather than inside the COMMIT that
   * crosses SQLite's threshold: with SQLCipher a checkpoint re-encrypts every page it
   * copies, which doubled the cost of that commit. Under sustained load the WAL is still
   * checkpointed every CHECKPOINT_EVERY commits, so it cannot grow without bound.
   */
  private afterCommit(): void {
    if (this.walBound.committed()) this.uncheckpointed = 0;
    if (++this.uncheckpointed >= CHECKPOINT_EVERY) {
      this.checkpoint();
      return;
    }
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = setTimeout(() => {
      if (this.queue.length === 0 && !this.closed) this.checkpoint();
    }, CHECKPOINT_IDLE_MS);
    this.checkpointTimer.unref();
  }

  /** On the checkpoint thread (checkpoint-thread.ts) where it runs; here otherwise. */
  private checkpoint(): void {
    clearTimeout(this.checkpointTimer);
    this.uncheckpointed = 0;
    if (this.checkpointer?.usable()) this.checkpointer.request();
    else this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Runs queued statements until none is left; returns the error that aborts the transaction. */
  private drain(tx: WebSqlTransaction, statements: Queued[]): SqlError | undefined {
    for (let next = statements.shift(); next; next = statements.shift()) {
      const [sql, args, ok, fail] = next;
      let result: SqlResultSet;
      try {
        result = this.execute(sql, args);
      } catch (err) {
        const sqlError = toSqlError(err);
        // SQLite may have rolled back by itself (SQLITE_FULL, IOERR...): nothing to go on with.
        if (!this.db.inTransaction || !fail || fail(tx, sqlError) !== false) return sqlError;
        continue;
      }
      ok?.(tx, result);
    }
    return undefined;
  }

  private execute(sql: string, args: readonly unknown[]): SqlResultSet {
    const stmt = this.prepare(sql);
    if (stmt.reader) {
      const rows = stmt.all(bindArgs(args)) as SqlRow[];
      return { rows: { length: rows.length, item: (i) => rows[i] as SqlRow }, insertId: undefined, rowsAffected: 0 };
    }
    const info = stmt.run(bindArgs(args));
    return { rows: NO_ROWS, insertId: Number(info.lastInsertRowid), rowsAffected: info.changes };
  }

  /**
   * Prepared statements by SQL text, least recently used evicted: the adapter inlines
   * LIMIT/OFFSET values and IN (?,?,...) widths, so distinct texts are unbounded.
   */
  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt) this.statements.delete(sql);
    else if (this.statements.size >= 256) this.statements.delete(this.statements.keys().next().value as string);
    stmt ??= this.db.prepare(SQL_REWRITES.get(sql) ?? sql);
    this.statements.set(sql, stmt);
    return stmt;
  }
}

function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  if (err instanceof Database.SqliteError) {
    return new SqlError(err.message, err.code.startsWith('SQLITE_CONSTRAINT') ? 6 : 1, err.code);
  }
  // A JS error from a callback may quote document content (JSON.parse messages do): keep it
  // off the message, and non-enumerable so console/inspect of the SqlError does not print it.
  const wrapped = new SqlError('a callback failed inside the transaction', 0);
  Object.defineProperty(wrapped, 'original', { value: err, enumerable: false });
  return wrapped;
}

const BINDABLE = new Set(['string', 'number', 'bigint']);
const bindable = (v: unknown) => v === null || BINDABLE.has(typeof v) || Buffer.isBuffer(v);

/** SQLite binds numbers, strings, bigints, buffers and null; coerce the rest as WebSQL does. */
function bindArgs(args: readonly unknown[]): unknown[] {
  if (args.every(bindable)) return args as unknown[];
  // Booleans as integers (bigint: better-sqlite3 binds every JS number as REAL).
  return args.map((v) => (bindable(v) ? v : v === undefined ? null : typeof v === 'boolean' ? BigInt(v) : String(v)));
}

/** A throwing user callback must not wedge the queue: rethrow it on a clean stack. */
function invokeUser(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.nextTick(() => { throw err; }); // prettier-ignore
  }
}

function openConnection(file: string, key: Buffer): Connection {
  // Create the file owner-only first (SQLite would follow the umask); -wal/-shm inherit it.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`key="x'${key.toString('hex')}'"`);
    // The first read decrypts page 1: a wrong key or a foreign file fails here (SQLITE_NOTADB).
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new SqlError(`WAL mode refused (${String(mode)})`, 1, 'SQLITE_ERROR');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0'); // see Connection.afterCommit
    db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    // Temp tables/sorts in memory: SQLite would spill them to os.tmpdir(), outside the data
    // folder. A 16 MiB page cache keeps a 10k-document batch from spilling before COMMIT.
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -16384');
    return new Connection(file, db, Buffer.from(key), checkpointThreadFor(file, key));
  } catch (err) {
    db.close();
    throw toSqlError(err);
  }
}

/** A thread that cannot start leaves checkpoints on the connection's own thread. */
function checkpointThreadFor(file: string, key: Buffer): CheckpointThread | undefined {
  try {
    return startCheckpointThread(file, key);
  } catch {
    return undefined;
  }
}

/** A new handle on the file's one connection, opening (creating) the file if needed.
 *  Throws SqlError (sqliteCode SQLITE_NOTADB) synchronously on a wrong key. */
export function openSqlcipherDatabase(file: string, { key }: SqlcipherOptions): WebSqlDatabase {
  if (key.length !== 32) throw new RangeError('the SQLCipher key must be 32 bytes');
  const path = resolve(file);
  let conn = connections.get(path);
  if (conn && !(key.length === conn.key.length && timingSafeEqual(key, conn.key))) {
    throw new SqlError('file is not a database', 1, 'SQLITE_NOTADB');
  }
  if (!conn) {
    conn = openConnection(path, key);
    connections.set(path, conn);
  }
  conn.acquire();
  const shared = conn;
  let released = false;
  return {
    connectionId: `${path}#${shared.id}`,
    file: path,
    transaction: (cb, fail, ok) => shared.enqueue({ readOnly: false, cb, fail, ok }),
    readTransaction: (cb, fail, ok) => shared.enqueue({ readOnly: true, cb, fail, ok }),
    close: () => (released ? Promise.resolve() : ((released = true), shared.release())),
  };
}

/** WebSQL's openDatabase(name, version, description, size) bound to one key; name = file path. */
export const sqlcipherOpenDatabase = (options: SqlcipherOptions) => (name: string) => openSqlcipherDatabase(name, options);
