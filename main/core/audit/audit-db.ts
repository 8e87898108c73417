/**
 * `<dataDir>/audit.db`: the audit log in its own SQLCipher database (key
 * purposeKey('audit')). Append-only by construction: events have INSERT and SELECT
 * statements and nothing else, and only audit-log.ts uses this module. The meta rows that
 * change are `journal` (the last journal record committed, audit-journal.ts) and, once,
 * `format`.
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
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { openSqlcipherFile } from '../store/sqlcipher-file';
import type { ChainHead, ChainRow } from './audit-chain';
import { AUDIT_DICTIONARY_V1 } from './audit-dictionary';

/**
 * 2: bodies are stored deflated (encodeBody). Format 1 files (text bodies) are read as
 * they are and marked 2 at open; their old rows stay text, which decodeBody still reads.
 */
const FORMAT = 2;
const READABLE_FORMATS = new Set([1, 2]);

/**
 * The `json` column's storage: deflate (raw, level 1) against a fixed dictionary of
 * typical events, behind a version byte. An AuditEvent is ~2 kB of mostly the same codes,
 * and a row that small is several times cheaper to write and checkpoint (docs/audit.md).
 * The chain hashes the JSON text, never these bytes, so the encoding is storage only.
 */
const BODY_V1 = 1;
const DICTIONARY_V1 = Buffer.from(AUDIT_DICTIONARY_V1, 'utf8');

export function encodeBody(json: string): Buffer {
  const z = deflateRawSync(json, { level: 1, dictionary: DICTIONARY_V1 });
  const out = Buffer.allocUnsafe(z.length + 1);
  out[0] = BODY_V1;
  z.copy(out, 1);
  return out;
}

/** A stored body back to its JSON text (format 1 rows hold the text itself). */
export function decodeBody(stored: string | Buffer): string {
  if (typeof stored === 'string') return stored;
  if (stored[0] !== BODY_V1) throw new Error(`audit event body of unknown version ${stored[0] ?? '?'}`);
  return inflateRawSync(stored.subarray(1), { dictionary: DICTIONARY_V1 }).toString('utf8');
}

type StoredRow = Omit<ChainRow, 'json'> & { json: string | Buffer };

/** Undecodable bodies read as '' so that verify reports the row (its hash no longer matches). */
function decodeRow(row: StoredRow | undefined): ChainRow | undefined {
  if (!row) return undefined;
  let json: string;
  try {
    json = decodeBody(row.json);
  } catch {
    json = '';
  }
  return { ...row, json };
}

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
  /** The number of the last journal record whose events are committed (0: none). */
  journalMark(): number;
  setJournalMark(n: number): void;
  /** Runs fn in one IMMEDIATE transaction (the write lock first): all of it or nothing. */
  atomically<T>(fn: () => T): T;
  close(): void;
}

export interface AuditDbOptions {
  /**
   * How long a write waits for another process's write lock. The serving process commits
   * batches on its event loop and retries later, so it waits briefly; the CLI waits long.
   */
  busyTimeoutMs?: number;
  /** Opened to read only (flint audit): a format 1 file is not marked 2. */
  readOnly?: boolean;
}

export function openAuditDb(file: string, key: Buffer, workstationId: string, opts: AuditDbOptions = {}): AuditDb {
  const db = openSqlcipherFile(file, key, { synchronous: 'NORMAL', what: 'the audit log' });
  try {
    if (opts.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    migrate(db, workstationId, opts.readOnly ?? false);
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
  const mark = db.prepare(`SELECT value FROM meta WHERE key = 'journal'`);
  const setMark = db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('journal', ?)`);
  return {
    last: () => last.get() as ChainHead | undefined,
    at: (seq) => decodeRow(at.get(seq) as StoredRow | undefined),
    byId: (id) => decodeRow(byId.get(id) as StoredRow | undefined),
    page: ({ afterSeq, limit, since, until }) =>
      // Unbounded ends as the widest integers SQLite compares against, so one statement serves all.
      (page.all({ afterSeq, limit, since: since ?? Number.MIN_SAFE_INTEGER, until: until ?? Number.MAX_SAFE_INTEGER }) as StoredRow[]).map(
        (r) => decodeRow(r)!,
      ),
    count: () => (count.get() as { n: number }).n,
    insert: (row) => void insert.run({ ...row, json: encodeBody(row.json) }),
    journalMark: () => Number((mark.get() as { value: string } | undefined)?.value ?? 0) || 0,
    setJournalMark: (n) => void setMark.run(String(n)),
    atomically: <T>(fn: () => T) => db.transaction(fn).immediate(),
    close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database, workstationId: string, readOnly: boolean): void {
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
  const format = Number(meta.get('format'));
  if (!READABLE_FORMATS.has(format)) throw new Error(`audit log format ${meta.get('format') ?? '?'} is not supported by this version`);
  // One chain per workstation: a file copied from another one would mix two chains.
  if (meta.get('workstation') !== workstationId) {
    throw new Error(`the audit log belongs to workstation ${meta.get('workstation') ?? '?'}, not ${workstationId}`);
  }
  // A writer marks a format 1 file 2 before it adds deflated rows; readers leave it be.
  if (format < FORMAT && !readOnly) db.prepare(`UPDATE meta SET value = ? WHERE key = 'format'`).run(String(FORMAT));
}
