/**
 * Opens a SQLCipher database file directly with better-sqlite3-multiple-ciphers, for the
 * stores that are not PouchDB (search index, accounts): the same cipher settings as the
 * PouchDB store (SQLCipher 4, raw 32-byte key, no KDF: the key is already uniformly
 * random), WAL, temp data in memory (sorts must not spill to os.tmpdir() in plaintext),
 * and the file created owner-only before SQLite touches it.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { WAL_LIMIT_BYTES } from './checkpoint-thread';

export class SqlcipherOpenError extends Error {
  constructor(message: string, readonly file: string, readonly code: string) {
    super(message);
    this.name = 'SqlcipherOpenError';
  }
}

export interface SqlcipherOptions {
  /** FULL for systems of record, NORMAL for derived data (see docs/search-index.md). */
  synchronous: 'FULL' | 'NORMAL';
  /** How the file is named in errors ("the search index"). */
  what: string;
  /**
   * WAL pages before SQLite checkpoints inside a commit (SQLite's default: 1000). With
   * SQLCipher a checkpoint costs about as much as the writes it copies, so a database written
   * in large batches (the search index) checkpoints less often (docs/benchmarks.md).
   */
  walAutocheckpoint?: number;
  /** Page cache in KiB (default 16 MiB). */
  cacheKiB?: number;
}

export function openSqlcipherFile(file: string, key: Buffer, { synchronous, what, walAutocheckpoint, cacheKiB = 16384 }: SqlcipherOptions): Database.Database {
  if (key.length !== 32) throw new RangeError(`the key of ${what} must be 32 bytes`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600)); // owner-only; SQLite would follow the umask
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`key="x'${key.toString('hex')}'"`);
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get(); // wrong key fails here
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new SqlcipherOpenError(`WAL mode refused (${String(mode)})`, file, 'SQLITE_ERROR');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`); // a WAL started over shrinks back to it
    if (walAutocheckpoint !== undefined) db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(walAutocheckpoint))}`);
    db.pragma('temp_store = MEMORY');
    db.pragma(`cache_size = -${Math.max(1024, Math.floor(cacheKiB))}`);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof SqlcipherOpenError) throw err;
    const code = (err as { code?: string }).code ?? 'SQLITE_ERROR';
    const why = code === 'SQLITE_NOTADB' ? 'wrong key or not this kind of file' : (err as Error).message;
    throw new SqlcipherOpenError(`${what} could not be opened: ${why}`, file, code);
  }
}
