/**
 * The index file itself (docs/search-index.md, "The database"): opening it with the
 * SQLCipher settings of the index, and its WAL checkpoints on a thread of their own.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { WalBound, startCheckpointThread } from '../../store/checkpoint-thread';
import { SqlcipherOpenError, openSqlcipherFile } from '../../store/sqlcipher-file';

export class IndexOpenError extends Error {
  constructor(message: string, readonly file: string, readonly code: string) {
    super(message);
    this.name = 'IndexOpenError';
  }
}

/** 32 MB of WAL between checkpoints: see SqlcipherOptions.walAutocheckpoint. */
const WAL_AUTOCHECKPOINT = 8192;
/**
 * 64 MiB of page cache: index rows go into B-trees in search order, not insertion order, so a
 * large batch touches pages all over the file, and every page read back is decrypted again.
 */
const CACHE_KIB = 65536;

export function openSqlcipher(file: string, key: Buffer): Database.Database {
  try {
    return openSqlcipherFile(file, key, { synchronous: 'NORMAL', what: 'the search index', walAutocheckpoint: WAL_AUTOCHECKPOINT, cacheKiB: CACHE_KIB });
  } catch (err) {
    if (err instanceof SqlcipherOpenError) throw new IndexOpenError(err.message, err.file, err.code);
    throw err;
  }
}

/** Commits between two checkpoints requested from the thread (deferred ones come once a second). */
const CHECKPOINT_EVERY_COMMITS = 4;

/**
 * The index's WAL checkpoints on a thread: SQLCipher decrypts and re-encrypts every page a
 * checkpoint copies, which SQLite otherwise does inside a COMMIT on this thread (half of the
 * index's COMMIT time in a Synthea load, docs/benchmarks.md). Should the thread fail,
 * SQLite's own checkpoints come back.
 */
export function offThreadCheckpoints(db: Database.Database, file: string, key: Buffer) {
  let thread: ReturnType<typeof startCheckpointThread> | undefined;
  try {
    thread = startCheckpointThread(file, key);
  } catch {
    return undefined;
  }
  db.pragma('wal_autocheckpoint = 0');
  let commits = 0;
  let fallenBack = false;
  const walBound = new WalBound(db, file, thread);
  return {
    committed() {
      if (walBound.committed()) commits = 0;
      if (thread?.usable()) {
        if (++commits >= CHECKPOINT_EVERY_COMMITS) {
          commits = 0;
          thread.request();
        }
      } else if (!fallenBack) {
        fallenBack = true;
        db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
      }
    },
    close() {
      thread?.closeSync();
      thread = undefined;
    },
  };
}
