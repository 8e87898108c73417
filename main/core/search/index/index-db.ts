/**
 * The search index database: `<dataDir>/index.db`, SQLCipher, key purposeKey('index').
 * Derived data (docs/search-index.md): rows plus the changes-feed checkpoint they reflect,
 * always written in one SQL transaction, so every state on disk is self-consistent.
 *
 * synchronous=NORMAL (the store uses FULL): in WAL mode NORMAL cannot corrupt the file; a
 * power loss may only drop the newest transactions, each of which carried its own
 * checkpoint, so the survivor is an older consistent state and the indexer re-reads the
 * rest from the feed. It saves an fsync per batch on every write's path (read-your-writes).
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { offThreadCheckpoints, openSqlcipher } from './index-file';
import type { IndexRows } from './index-rows';
import { createQueries, type IndexQueries } from './index-queries';
import { createJoinQueries, type JoinQueries } from './join-queries';
import { writeRows } from './row-writer';
import { BUILDING_KEY, ROW_TABLES, createSearchIndexes, dropSearchIndexes, ensureSchema } from './schema';

export { IndexOpenError } from './index-file';

export type Seq = number | string;

export interface IndexChange {
  type: string;
  id: string;
  vid: string;
  lastUpdated: number;
  /** null: the resource is deleted (its rows go). */
  rows: IndexRows | null;
  /** The head's open conflict, if it has one (absent or null: none). */
  conflict?: ConflictInfo | null;
}

/** A head with several leaf revisions: the winner and every version in conflict. */
export interface ConflictInfo {
  current: string;
  /** Version ids of every leaf, the winner's first. */
  versions: string[];
  /** delete when one of the leaves is a deletion. */
  kind: 'edit' | 'delete';
}

export interface ConflictRow extends ConflictInfo {
  type: string;
  id: string;
}

/** Two or more current Patients sharing one identifier (system and value). */
export interface DuplicateRow {
  system: string;
  value: string;
  /** Patient ids with their current version ids. */
  patients: Array<{ id: string; vid: string }>;
}

/** A version document of a store transaction that is not complete yet. */
export interface TxVersion {
  txId: string;
  size: number;
  type: string;
  id: string;
  n: number;
}

/** Transaction bookkeeping written with a batch: versions seen, transactions completed. */
export interface TxBookkeeping {
  versions: TxVersion[];
  done: string[];
}

export interface IndexDb extends IndexQueries, JoinQueries {
  readonly file: string;
  /** True when open created the schema or wiped it (new file, format or definitions): rebuild. */
  readonly reset: boolean;
  checkpoint(): Seq;
  definitionsHash(): string | null;
  /** One resource, in its own transaction (the checkpoint does not move). */
  replace(type: string, id: string, vid: string, lastUpdated: number, rows: IndexRows | null): void;
  /**
   * Changes, bookkeeping and checkpoint in ONE SQL transaction: all of it or none. With
   * `defer`, that transaction stays open after the batch (later deferred batches join it)
   * until commit(): this connection's queries see the rows at once, the file only then.
   */
  applyBatch(changes: readonly IndexChange[], checkpoint: Seq, tx?: TxBookkeeping, opts?: { defer?: boolean }): void;
  /**
   * Commits the deferred batches, if any. On failure they are all rolled back (rows and
   * checkpoint together: the index is behind, never wrong) and the error is thrown.
   */
  commit(): void;
  /** An incomplete transaction: its size and the versions seen so far. */
  pendingTx(txId: string): { size: number; versions: Array<{ type: string; id: string; n: number }> } | undefined;
  /** The transaction completed (and was indexed) in an earlier batch. */
  txDone(txId: string): boolean;
  /**
   * Empties every table; checkpoint back to 0 (the definitions hash stays). With
   * `custom`, records in the same transaction the custom search parameters the rows are
   * about to be rebuilt with, so a crash mid-rebuild resumes with the same ones.
   * With `dropIndexes` (a full rebuild), starts a new file (no other connection may have
   * the file open) without the search indexes, marked as being rebuilt: until
   * buildSearchIndexes(), rows are appended rather than inserted into a dozen B-trees
   * each, and an index opened with the mark (a rebuild that was killed) is recreated
   * empty (`reset`).
   */
  clear(custom?: unknown, opts?: { dropIndexes?: boolean }): void;
  /** True between clear({ dropIndexes }) and buildSearchIndexes(): no search may run. */
  building(): boolean;
  /**
   * Creates the search indexes dropped by clear (one sort each) and removes the mark, in
   * one transaction, after committing any deferred batches. No-op when not building.
   */
  buildSearchIndexes(): void;
  /** The custom search parameters the rows were built with (as given to clear), if any. */
  customParams(): unknown;
  /** Forgets which params were absent: call after another connection wrote to the file. */
  forgetAbsentParams(): void;
  /** Every open conflict, by type and id. */
  conflicts(): ConflictRow[];
  /** The open conflict of one resource. */
  conflictOf(type: string, id: string): ConflictRow | undefined;
  /** Patients sharing an identifier, except those tagged as reviewed (`reviewedTag`: system and code). */
  duplicates(reviewedTag: { system: string; code: string }): DuplicateRow[];
  close(): void;
}

export interface IndexDbOptions {
  file: string;
  /** 32 random bytes: DataDir.purposeKey('index'). */
  key: Buffer;
  /** Of the search-parameter definitions; a different stored hash wipes the index. */
  definitionsHash?: string;
  /**
   * WAL checkpoints on a thread of their own (store/checkpoint-thread.ts) instead of inside
   * a COMMIT every WAL_AUTOCHECKPOINT pages; default true. The index writer thread's own
   * connection passes false.
   */
  checkpointThread?: boolean;
  /**
   * Opens an index that is being rebuilt (clear with dropIndexes) as it is, instead of
   * recreating it: the index writer thread's connection, opened during a rebuild.
   */
  keepBuilding?: boolean;
}

export function openIndexDb({ file, key, definitionsHash, checkpointThread = true, keepBuilding = false }: IndexDbOptions): IndexDb {
  if (key.length !== 32) throw new RangeError('the index key must be 32 bytes');
  const path = resolve(file);
  // Replaced by a new file when a full rebuild starts (clear with dropIndexes).
  let db = openSqlcipher(path, key);
  let checkpoints = checkpointThread ? offThreadCheckpoints(db, path, key) : undefined;
  const statements = new Map<string, Database.Statement>();
  /**
   * Interned params by type and code; null: none interned (yet), so no row has the param.
   * Only this connection interns (one process owns the data dir): pidFor replaces a null,
   * clear and rollbacks forget all. By type first: a resource's ~30 rows look up one type.
   */
  const pids = new Map<string, Map<string, number | null>>();
  const pidsOf = (type: string) => {
    let m = pids.get(type);
    if (!m) pids.set(type, (m = new Map()));
    return m;
  };

  const stmt = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const run = (sql: string, ...args: unknown[]) => void stmt(sql).run(...args);
  const all = <T>(sql: string, ...args: unknown[]) => stmt(sql).all(...args) as T[];
  // Plucking statements are kept apart: pluck() is a mode of the statement object.
  const plucked = new Map<string, Database.Statement>();
  const column = (sql: string, ...args: unknown[]) => {
    let s = plucked.get(sql);
    if (!s) plucked.set(sql, (s = db.prepare(sql).pluck()));
    return s.all(...args) as number[];
  };
  const getMeta = (key: string): unknown => {
    const row = all<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)[0];
    return row ? JSON.parse(row.value) : undefined;
  };
  const setMeta = (key: string, value: unknown) =>
    run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, JSON.stringify(value));

  const lookupPid = (type: string, code: string): number | undefined => {
    const known = pidsOf(type);
    const cached = known.get(code);
    if (cached !== undefined) return cached ?? undefined;
    const pid = all<{ pid: number }>('SELECT pid FROM param WHERE type = ? AND code = ?', type, code)[0]?.pid;
    // A compartment asks for ~150 params, most of which no resource here has: remember that too.
    known.set(code, pid ?? null);
    return pid;
  };
  const pidFor = (type: string, code: string): number => {
    const known = pidsOf(type);
    const cached = known.get(code);
    if (typeof cached === 'number') return cached;
    // A cached "absent" is not trusted for writing: another connection (the index writer
    // thread, index-writer.ts) may have interned it since.
    if (cached === null) known.delete(code);
    const found = lookupPid(type, code);
    if (found !== undefined) return found;
    const pid = Number(stmt('INSERT INTO param (type, code) VALUES (?, ?)').run(type, code).lastInsertRowid);
    known.set(code, pid);
    return pid;
  };

  const replaceOne = (c: IndexChange) => {
    run('DELETE FROM conflict WHERE type = ? AND id = ?', c.type, c.id);
    if (c.conflict) {
      run('INSERT INTO conflict (type, id, current, versions, kind) VALUES (?, ?, ?, ?, ?)', c.type, c.id, c.conflict.current, JSON.stringify(c.conflict.versions), c.conflict.kind);
    }
    const rid = all<{ rid: number }>('SELECT rid FROM resource WHERE type = ? AND id = ?', c.type, c.id)[0]?.rid;
    if (rid !== undefined) for (const t of ROW_TABLES) run(`DELETE FROM ${t} WHERE rid = ?`, rid);
    if (!c.rows) {
      if (rid !== undefined) run('DELETE FROM resource WHERE rid = ?', rid);
      return;
    }
    let target = rid;
    if (target === undefined) {
      const info = stmt('INSERT INTO resource (type, id, vid, last_updated) VALUES (?, ?, ?, ?)').run(c.type, c.id, c.vid, c.lastUpdated);
      target = Number(info.lastInsertRowid);
    } else run('UPDATE resource SET vid = ?, last_updated = ? WHERE rid = ?', c.vid, c.lastUpdated, target);
    writeRows({ run, pidFor }, target, c.type, c.rows);
  };

  /**
   * Deferred batches (applyBatch with defer) share one open write transaction, committed
   * by commit(): a COMMIT encrypts every page it writes, and consecutive small batches
   * dirty mostly the same pages (the same B-tree leaves, meta), so one COMMIT for many
   * batches writes a fraction of the pages (docs/benchmarks.md, "Results after issue 12").
   * Each batch is a SAVEPOINT inside it, so a failing batch undoes only itself.
   */
  const commit = () => {
    if (!db.inTransaction) return;
    try {
      db.exec('COMMIT');
    } catch (err) {
      pids.clear();
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    checkpoints?.committed();
  };

  /** A rolled-back transaction may have interned params that no longer exist: forget them. */
  const atomically = (fn: () => void, defer = false) => {
    if (!defer) commit();
    else if (!db.inTransaction) db.exec('BEGIN IMMEDIATE');
    try {
      // Inside the deferred transaction, better-sqlite3 makes this a savepoint.
      db.transaction(fn).immediate();
    } catch (err) {
      pids.clear();
      throw err;
    }
    if (!defer) checkpoints?.committed();
  };

  let reset = ensureSchema(db, keepBuilding);
  if (definitionsHash !== undefined && getMeta('definitions') !== definitionsHash) {
    if (!reset) clearAll();
    setMeta('definitions', definitionsHash);
    reset = true;
  }

  function clearAll(custom?: unknown, opts?: { dropIndexes?: boolean }): void {
    if (opts?.dropIndexes) return recreate(custom);
    atomically(() => {
      for (const t of [...ROW_TABLES, 'resource', 'param', 'tx_size', 'tx_version', 'conflict']) run(`DELETE FROM ${t}`);
      run(`DELETE FROM meta WHERE key = 'checkpoint'`);
      if (custom !== undefined) setMeta('custom', custom);
    });
    pids.clear();
  }

  /**
   * A full rebuild starts from a new, empty file rather than DELETEs: emptying a table
   * reads (decrypts) every page of it to free it, 3 s of the rebuild at 100,000 resources.
   * No other connection may be open on the file (the index writer thread's is closed
   * first; this connection's checkpoint thread is closed and started again here). A crash
   * before the mark is committed leaves no file or a new empty one: a reset either way.
   */
  function recreate(custom?: unknown): void {
    const definitions = getMeta('definitions');
    commit();
    checkpoints?.close();
    statements.clear();
    plucked.clear();
    pids.clear();
    db.close();
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    db = openSqlcipher(path, key);
    checkpoints = checkpointThread ? offThreadCheckpoints(db, path, key) : undefined;
    ensureSchema(db);
    atomically(() => {
      dropSearchIndexes(db);
      if (definitions !== undefined) setMeta('definitions', definitions);
      if (custom !== undefined) setMeta('custom', custom);
    });
  }

  return {
    file: path,
    reset,
    ...createQueries({ all, column, pid: lookupPid }),
    ...createJoinQueries({ all, column, pid: lookupPid }),
    checkpoint: () => (getMeta('checkpoint') as Seq | undefined) ?? 0,
    definitionsHash: () => (getMeta('definitions') as string | undefined) ?? null,
    replace(type, id, vid, lastUpdated, rows) {
      atomically(() => replaceOne({ type, id, vid, lastUpdated, rows }));
    },
    commit,
    applyBatch(changes, checkpoint, tx, opts) {
      atomically(() => {
        for (const c of changes) replaceOne(c);
        for (const v of tx?.versions ?? []) {
          run('INSERT OR IGNORE INTO tx_size (tx_id, size) VALUES (?, ?)', v.txId, v.size);
          run('INSERT OR REPLACE INTO tx_version (tx_id, type, id, n) VALUES (?, ?, ?, ?)', v.txId, v.type, v.id, v.n);
        }
        for (const done of tx?.done ?? []) {
          run('INSERT INTO tx_size (tx_id, size, done) VALUES (?, 0, 1) ON CONFLICT (tx_id) DO UPDATE SET done = 1', done);
          run('DELETE FROM tx_version WHERE tx_id = ?', done);
        }
        setMeta('checkpoint', checkpoint);
      }, opts?.defer === true);
    },
    txDone: (txId) => all('SELECT 1 FROM tx_size WHERE tx_id = ? AND done = 1', txId).length > 0,
    pendingTx(txId) {
      const size = all<{ size: number }>('SELECT size FROM tx_size WHERE tx_id = ? AND done = 0', txId)[0]?.size;
      if (size === undefined) return undefined;
      return { size, versions: all('SELECT type, id, n FROM tx_version WHERE tx_id = ? ORDER BY type, id', txId) };
    },
    clear: clearAll,
    building: () => getMeta(BUILDING_KEY) !== undefined,
    buildSearchIndexes() {
      commit();
      if (getMeta(BUILDING_KEY) === undefined) return;
      atomically(() => createSearchIndexes(db));
    },
    forgetAbsentParams() {
      for (const known of pids.values()) for (const [code, pid] of known) if (pid === null) known.delete(code);
    },
    customParams: () => getMeta('custom'),
    conflicts: () => all<ConflictDbRow>('SELECT type, id, current, versions, kind FROM conflict ORDER BY type, id').map(conflictRow),
    conflictOf(type, id) {
      const row = all<ConflictDbRow>('SELECT type, id, current, versions, kind FROM conflict WHERE type = ? AND id = ?', type, id)[0];
      return row ? conflictRow(row) : undefined;
    },
    duplicates(reviewed) {
      const pid = lookupPid('Patient', 'identifier');
      if (pid === undefined) return [];
      const tag = lookupPid('Patient', '_tag') ?? -1;
      const rows = all<{ system: string; code: string; id: string; vid: string }>(
        `WITH live AS (
           SELECT t.system, t.code, t.rid FROM sp_token t
           WHERE t.pid = ? AND t.system IS NOT NULL AND t.code IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM sp_token g WHERE g.pid = ? AND g.rid = t.rid AND g.system = ? AND g.code = ?))
         SELECT l.system, l.code, r.id, r.vid FROM live l JOIN resource r ON r.rid = l.rid
         WHERE (l.system, l.code) IN (SELECT system, code FROM live GROUP BY system, code HAVING COUNT(DISTINCT rid) > 1)
         ORDER BY l.system, l.code, r.id`,
        pid, tag, reviewed.system, reviewed.code,
      );
      const out = new Map<string, DuplicateRow>();
      for (const r of rows) {
        const key = `${r.system}|${r.code}`;
        let d = out.get(key);
        if (!d) out.set(key, (d = { system: r.system, value: r.code, patients: [] }));
        if (!d.patients.some((p) => p.id === r.id)) d.patients.push({ id: r.id, vid: r.vid });
      }
      return [...out.values()];
    },
    close() {
      if (db.open) commit();
      statements.clear();
      plucked.clear();
      checkpoints?.close(); // first: this connection must be the last to close
      if (db.open) db.close(); // the last connection checkpoints the WAL and removes -wal/-shm
    },
  };
}

interface ConflictDbRow {
  type: string;
  id: string;
  current: string;
  versions: string;
  kind: string;
}

function conflictRow(r: ConflictDbRow): ConflictRow {
  return { type: r.type, id: r.id, current: r.current, versions: JSON.parse(r.versions) as string[], kind: r.kind === 'delete' ? 'delete' : 'edit' };
}
