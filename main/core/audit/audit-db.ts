/**
 * `<dataDir>/audit.db`: the audit log in its own SQLCipher database (key
 * purposeKey('audit')). Append-only by construction: events and blocks have INSERT and
 * SELECT statements and nothing else, and only audit-log.ts uses this module. The meta
 * rows that change are `journal` (the last journal record committed, audit-journal.ts)
 * and, once, `format`.
 *
 * Each commit stores its events' bodies together, as one deflated block (encodeBlock),
 * and one small row per event (seq, id, recorded, links) pointing at its block: a batch
 * of 2 kB events then costs one deflate and small rows instead of one large row each
 * (docs/audit.md, "The file").
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
 * 3: bodies in blocks (event.block, table block). Older files are read as they are, and a
 * writer adds the block column and table and marks them 3; their old rows keep their body
 * in event.json: format 1 as text, format 2 as a block of one event (a BLOB).
 */
const FORMAT = 3;
const READABLE_FORMATS = new Set([1, 2, 3]);

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE event (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded INTEGER NOT NULL,
  prev TEXT NOT NULL, hash TEXT NOT NULL, json TEXT NOT NULL, block INTEGER);
CREATE INDEX event_recorded ON event (recorded);
CREATE TABLE block (first INTEGER PRIMARY KEY, body BLOB NOT NULL);
`;
const UPGRADE_TO_BLOCKS = `
ALTER TABLE event ADD COLUMN block INTEGER;
CREATE TABLE block (first INTEGER PRIMARY KEY, body BLOB NOT NULL);
`;

/**
 * A block: the canonical JSON of consecutive events (seq first, first+1, ...) joined by
 * newlines (canonical JSON has none), deflated (raw, level 1) against a fixed dictionary of
 * typical events, behind a version byte. The chain hashes each event's JSON text, never
 * these bytes, so the encoding is storage only.
 */
const BLOCK_V1 = 1;
const DICTIONARY_V1 = Buffer.from(AUDIT_DICTIONARY_V1, 'utf8');

export function encodeBlock(jsons: readonly string[]): Buffer {
  const z = deflateRawSync(jsons.join('\n'), { level: 1, dictionary: DICTIONARY_V1 });
  const out = Buffer.allocUnsafe(z.length + 1);
  out[0] = BLOCK_V1;
  z.copy(out, 1);
  return out;
}

export function decodeBlock(body: Buffer): string[] {
  if (body[0] !== BLOCK_V1) throw new Error(`audit block of unknown version ${body[0] ?? '?'}`);
  return inflateRawSync(body.subarray(1), { dictionary: DICTIONARY_V1 }).toString('utf8').split('\n');
}

/** The body an older row carries: text (format 1), or a block of one event (format 2). */
function ownBody(json: string | Buffer): string {
  if (typeof json === 'string') return json;
  try {
    return decodeBlock(json)[0] ?? '';
  } catch {
    return ''; // unreadable: verify reports it (its content no longer matches its hash)
  }
}

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
  /** Consecutive events (ascending seqs) with their bodies in one block. */
  insertGroup(rows: readonly ChainRow[]): void;
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
  /** Opened to read only (flint audit): a format 1 file is left as it is. */
  readOnly?: boolean;
}

type StoredRow = Omit<ChainRow, 'json'> & { json: string | Buffer; block: number | null };

/** Decoded blocks kept for reads that walk the log (verify, export, the audit index). */
const BLOCK_CACHE = 8;

export function openAuditDb(file: string, key: Buffer, workstationId: string, opts: AuditDbOptions = {}): AuditDb {
  const db = openSqlcipherFile(file, key, { synchronous: 'NORMAL', what: 'the audit log' });
  let hasBlocks: boolean;
  try {
    if (opts.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    hasBlocks = migrate(db, workstationId, opts.readOnly ?? false);
  } catch (err) {
    db.close();
    throw err;
  }
  const columns = `seq, id, recorded, prev, hash, json, ${hasBlocks ? 'block' : 'NULL AS block'}`;
  const last = db.prepare('SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1');
  const at = db.prepare(`SELECT ${columns} FROM event WHERE seq = ?`);
  const byId = db.prepare(`SELECT ${columns} FROM event WHERE id = ?`);
  const page = db.prepare(
    `SELECT ${columns} FROM event WHERE seq > @afterSeq AND recorded >= @since AND recorded < @until ORDER BY seq LIMIT @limit`,
  );
  const count = db.prepare('SELECT count(*) AS n FROM event');
  const insert = hasBlocks
    ? db.prepare(`INSERT INTO event (seq, id, recorded, prev, hash, json, block) VALUES (@seq, @id, @recorded, @prev, @hash, '', @block)`)
    : undefined;
  const insertBlock = hasBlocks ? db.prepare('INSERT INTO block (first, body) VALUES (?, ?)') : undefined;
  const blockBody = hasBlocks ? db.prepare('SELECT body FROM block WHERE first = ?').pluck() : undefined;
  const mark = db.prepare(`SELECT value FROM meta WHERE key = 'journal'`);
  const setMark = db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('journal', ?)`);

  const decoded = new Map<number, string[]>();
  const blockOf = (first: number): string[] => {
    let jsons = decoded.get(first);
    if (!jsons) {
      const body = blockBody!.get(first) as Buffer | undefined;
      try {
        jsons = body ? decodeBlock(body) : [];
      } catch {
        jsons = []; // unreadable: its events read as '' and verify reports the first of them
      }
      if (decoded.size >= BLOCK_CACHE) decoded.delete(decoded.keys().next().value!);
      decoded.set(first, jsons);
    }
    return jsons;
  };
  const toRow = (r: StoredRow | undefined): ChainRow | undefined => {
    if (!r) return undefined;
    const { block, json, ...rest } = r;
    // A block row finds its body by its place in the block; older rows carry it.
    return { ...rest, json: block !== null ? (blockOf(block)[rest.seq - block] ?? '') : ownBody(json) };
  };

  return {
    last: () => last.get() as ChainHead | undefined,
    at: (seq) => toRow(at.get(seq) as StoredRow | undefined),
    byId: (id) => toRow(byId.get(id) as StoredRow | undefined),
    page: ({ afterSeq, limit, since, until }) =>
      // Unbounded ends as the widest integers SQLite compares against, so one statement serves all.
      (page.all({ afterSeq, limit, since: since ?? Number.MIN_SAFE_INTEGER, until: until ?? Number.MAX_SAFE_INTEGER }) as StoredRow[]).map(
        (r) => toRow(r)!,
      ),
    count: () => (count.get() as { n: number }).n,
    insertGroup(rows) {
      if (!insert || !insertBlock) throw new Error('the audit log was opened read-only');
      if (rows.length === 0) return;
      const first = rows[0]!.seq;
      rows.forEach((r, i) => {
        if (r.seq !== first + i) throw new RangeError('a block holds consecutive events');
      });
      insertBlock.run(first, encodeBlock(rows.map((r) => r.json)));
      for (const r of rows) insert.run({ seq: r.seq, id: r.id, recorded: r.recorded, prev: r.prev, hash: r.hash, block: first });
    },
    journalMark: () => Number((mark.get() as { value: string } | undefined)?.value ?? 0) || 0,
    setJournalMark: (n) => void setMark.run(String(n)),
    atomically: <T>(fn: () => T) => db.transaction(fn).immediate(),
    close() {
      decoded.clear();
      if (db.open) db.close();
    },
  };
}

/** Creates or checks the file; returns whether it has blocks (format 3). */
function migrate(db: Database.Database, workstationId: string, readOnly: boolean): boolean {
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
  const readMeta = () =>
    new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  const meta = readMeta();
  // A system of record is never dropped and recreated: a newer format needs a newer Flint.
  const format = Number(meta.get('format'));
  if (!READABLE_FORMATS.has(format)) throw new Error(`audit log format ${meta.get('format') ?? '?'} is not supported by this version`);
  // One chain per workstation: a file copied from another one would mix two chains.
  if (meta.get('workstation') !== workstationId) {
    throw new Error(`the audit log belongs to workstation ${meta.get('workstation') ?? '?'}, not ${workstationId}`);
  }
  if (format === FORMAT) return true;
  if (readOnly) return false;
  db.transaction(() => {
    if (Number(readMeta().get('format')) === FORMAT) return; // another writer upgraded it meanwhile
    db.exec(UPGRADE_TO_BLOCKS);
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'format'`).run(String(FORMAT));
  }).immediate();
  return true;
}
