/**
 * `<dataDir>/audit.db`: the audit log in its own SQLCipher database (key
 * purposeKey('audit')). Append-only by construction: this module has INSERT and SELECT
 * statements and nothing else, and only audit-log.ts uses it.
 *
 * synchronous=NORMAL: in WAL mode a commit survives a process crash without an fsync per
 * group, which keeps auditing cheap; a power loss can drop the newest groups, and verify
 * then reports them missing against the chain head kept in the keychain (docs/audit.md).
 *
 * The CLI opens it while a server writes it: SQLite's locking (WAL: readers alongside one
 * writer) makes that safe, and every append takes the write lock (IMMEDIATE) before it
 * reads the last link, so even two writing processes would extend one chain.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { openSqlcipherFile } from '../store/sqlcipher-file';
import type { ChainHead, ChainRow } from './audit-chain';

const FORMAT = 1;

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE event (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded INTEGER NOT NULL,
  prev TEXT NOT NULL, hash TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX event_recorded ON event (recorded);
`;

const COLUMNS = 'seq, id, recorded, prev, hash, json';

export interface PageQuery {
  /** Rows with seq greater than this (0: from the start). */
  afterSeq: number;
  limit: number;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

export interface AuditDb {
  /** The newest stored link, if any. */
  last(): ChainHead | undefined;
  at(seq: number): ChainRow | undefined;
  byId(id: string): ChainRow | undefined;
  /** Rows in seq order, at most limit of them. */
  page(q: PageQuery): ChainRow[];
  count(): number;
  insert(row: ChainRow): void;
  /** Runs fn in one IMMEDIATE transaction (the write lock first): all of it or nothing. */
  atomically<T>(fn: () => T): T;
  close(): void;
}

export function openAuditDb(file: string, key: Buffer, workstationId: string): AuditDb {
  const db = openSqlcipherFile(file, key, { synchronous: 'NORMAL', what: 'the audit log' });
  try {
    migrate(db, workstationId);
  } catch (err) {
    db.close();
    throw err;
  }
  const last = db.prepare('SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1');
  const at = db.prepare(`SELECT ${COLUMNS} FROM event WHERE seq = ?`);
  const byId = db.prepare(`SELECT ${COLUMNS} FROM event WHERE id = ?`);
  const page = db.prepare(
    `SELECT ${COLUMNS} FROM event WHERE seq > @afterSeq AND recorded >= @since AND recorded < @until ORDER BY seq LIMIT @limit`,
  );
  const count = db.prepare('SELECT count(*) AS n FROM event');
  const insert = db.prepare(`INSERT INTO event (${COLUMNS}) VALUES (@seq, @id, @recorded, @prev, @hash, @json)`);
  return {
    last: () => last.get() as ChainHead | undefined,
    at: (seq) => at.get(seq) as ChainRow | undefined,
    byId: (id) => byId.get(id) as ChainRow | undefined,
    page: ({ afterSeq, limit, since, until }) =>
      // Unbounded ends as the widest integers SQLite compares against, so one statement serves all.
      page.all({ afterSeq, limit, since: since ?? Number.MIN_SAFE_INTEGER, until: until ?? Number.MAX_SAFE_INTEGER }) as ChainRow[],
    count: () => (count.get() as { n: number }).n,
    insert: (row) => void insert.run(row),
    atomically: <T>(fn: () => T) => db.transaction(fn).immediate(),
    close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database, workstationId: string): void {
  const hasMeta = () => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get() !== undefined;
  // Read first: a reader (flint audit verify next to a server) takes no write lock.
  if (!hasMeta()) {
    db.transaction(() => {
      if (hasMeta()) return; // another process created it meanwhile
      db.exec(DDL);
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      put.run('format', String(FORMAT));
      put.run('workstation', workstationId);
    }).immediate();
  }
  const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  // A system of record is never dropped and recreated: a newer format needs a newer Flint.
  if (Number(meta.get('format')) !== FORMAT) throw new Error(`audit log format ${meta.get('format') ?? '?'} is not supported by this version`);
  // One chain per workstation: a file copied from another one would mix two chains.
  if (meta.get('workstation') !== workstationId) {
    throw new Error(`the audit log belongs to workstation ${meta.get('workstation') ?? '?'}, not ${workstationId}`);
  }
}
