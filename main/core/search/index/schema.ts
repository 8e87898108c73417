/**
 * The index schema (docs/search-index.md, "Tables"). The index is derived, so a format
 * change migrates by dropping everything and rebuilding from the store: no ALTER scripts.
 * Bump INDEX_FORMAT whenever a table, column or index changes.
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export const INDEX_FORMAT = 5;

/** Row tables; every one has `rid` and `pid` and is emptied per resource by rid. */
export const ROW_TABLES = [
  'sp_string', 'sp_token', 'sp_reference', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri', 'sp_composite', 'sp_present',
] as const; // prettier-ignore

const TABLES = ['meta', 'param', 'resource', ...ROW_TABLES, 'tx_size', 'tx_version', 'conflict'];

// Tables, and the indexes that start with rid (or follow insertion order): a rebuild
// appends to them. The search indexes are SEARCH_INDEXES below.
const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE param (pid INTEGER PRIMARY KEY, type TEXT NOT NULL, code TEXT NOT NULL, UNIQUE (type, code));
CREATE TABLE resource (
  rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL, vid TEXT NOT NULL,
  last_updated INTEGER NOT NULL, UNIQUE (type, id));
CREATE INDEX resource_updated ON resource (type, last_updated);

CREATE TABLE sp_string (rid INTEGER NOT NULL, pid INTEGER NOT NULL, value TEXT NOT NULL, exact TEXT);

CREATE TABLE sp_token (
  rid INTEGER NOT NULL, pid INTEGER NOT NULL, system TEXT, code TEXT, text TEXT, of_type_system TEXT, of_type_code TEXT);
CREATE TABLE sp_reference (
  rid INTEGER NOT NULL, pid INTEGER NOT NULL, target_type TEXT, target_id TEXT, url TEXT, version TEXT,
  identifier_system TEXT, identifier_value TEXT);
CREATE TABLE sp_date (rid INTEGER NOT NULL, pid INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL);
CREATE TABLE sp_number (rid INTEGER NOT NULL, pid INTEGER NOT NULL, low REAL NOT NULL, high REAL NOT NULL);
CREATE TABLE sp_quantity (
  rid INTEGER NOT NULL, pid INTEGER NOT NULL, system TEXT, code TEXT, unit TEXT, low REAL NOT NULL, high REAL NOT NULL,
  canonical_code TEXT, canonical_low REAL, canonical_high REAL);
CREATE TABLE sp_uri (rid INTEGER NOT NULL, pid INTEGER NOT NULL, uri TEXT NOT NULL);
CREATE TABLE sp_composite (
  rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER NOT NULL, pos INTEGER NOT NULL,
  system TEXT, code TEXT, text TEXT, low REAL, high REAL, canonical_code TEXT, canonical_low REAL, canonical_high REAL);
CREATE INDEX sp_composite_element ON sp_composite (rid, pid, grp, pos);

CREATE TABLE sp_present (pid INTEGER NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (pid, rid)) WITHOUT ROWID;

-- done = 1: complete and indexed; kept so a head of it arriving late is indexed at once.
CREATE TABLE tx_size (tx_id TEXT PRIMARY KEY, size INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE tx_version (
  tx_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (tx_id, type, id)) WITHOUT ROWID;

-- Heads with more than one leaf revision after replication (docs/sync.md, "Conflicts"):
-- the winner's version id, every version id in conflict (winner first), edit or delete.
CREATE TABLE conflict (
  type TEXT NOT NULL, id TEXT NOT NULL, current TEXT NOT NULL, versions TEXT NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY (type, id)) WITHOUT ROWID;
`;

/**
 * The search indexes. They end in rid so a lookup is answered from the index alone (rowid
 * tables would otherwise need a second lookup per match to read rid). Indexes for columns
 * most rows leave NULL (display text, Identifier.type, Reference.identifier, units) are
 * partial: a query comparing the column implies IS NOT NULL, so SQLite still uses them.
 *
 * Every row inserted is a random insert into each of them (~150 B-tree inserts per
 * resource), so a full rebuild drops them, appends the rows, and creates them at the end
 * (a sort per index): dropSearchIndexes / createSearchIndexes.
 */
const SEARCH_INDEXES: readonly string[] = [
  `CREATE INDEX sp_string_value ON sp_string (pid, value, rid)`,
  `CREATE INDEX sp_string_exact ON sp_string (pid, exact, rid)`,
  `CREATE INDEX sp_token_code ON sp_token (pid, code, system, rid)`,
  `CREATE INDEX sp_token_system ON sp_token (pid, system, rid)`,
  `CREATE INDEX sp_token_text ON sp_token (pid, text, rid) WHERE text IS NOT NULL`,
  `CREATE INDEX sp_token_of_type ON sp_token (pid, code, of_type_code, of_type_system, rid) WHERE of_type_code IS NOT NULL`,
  `CREATE INDEX sp_reference_target ON sp_reference (pid, target_id, target_type, rid)`,
  `CREATE INDEX sp_reference_url ON sp_reference (pid, url, rid)`,
  `CREATE INDEX sp_reference_identifier ON sp_reference (pid, identifier_value, identifier_system, rid) WHERE identifier_value IS NOT NULL`,
  `CREATE INDEX sp_date_start ON sp_date (pid, start_ms, end_ms, rid)`,
  `CREATE INDEX sp_date_end ON sp_date (pid, end_ms, start_ms, rid)`,
  `CREATE INDEX sp_number_low ON sp_number (pid, low, high, rid)`,
  `CREATE INDEX sp_number_high ON sp_number (pid, high, low, rid)`,
  `CREATE INDEX sp_quantity_code ON sp_quantity (pid, code, system, low, high, rid)`,
  `CREATE INDEX sp_quantity_unit ON sp_quantity (pid, unit, low, high, rid) WHERE unit IS NOT NULL`,
  `CREATE INDEX sp_quantity_canonical ON sp_quantity (pid, canonical_code, canonical_low, canonical_high, rid) WHERE canonical_code IS NOT NULL`,
  `CREATE INDEX sp_uri_uri ON sp_uri (pid, uri, rid)`,
  // grp after rid: the join to the other components reads it from the index too.
  `CREATE INDEX sp_composite_first ON sp_composite (pid, pos, code, system, rid, grp)`,
];

const indexName = (ddl: string) => /^CREATE INDEX (\w+)/.exec(ddl)![1]!;

/** Deletes by rid; sp_present's key starts with pid, so it gets its own rid index too. */
const RID_INDEXES = ROW_TABLES.map((t) => `CREATE INDEX ${t}_rid ON ${t} (rid);`).join('\n');

/**
 * The meta key present while the search indexes are dropped for a rebuild (written in the
 * transaction that drops them, deleted in the one that creates them again). An index that
 * opens with it was interrupted mid-rebuild: it is incomplete and has no search indexes.
 */
export const BUILDING_KEY = 'building';

function storedFormat(db: Database.Database): number | undefined {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return undefined;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as { value: string } | undefined;
  return row ? Number(JSON.parse(row.value)) : undefined;
}

const interrupted = (db: Database.Database) => db.prepare(`SELECT 1 FROM meta WHERE key = ?`).get(BUILDING_KEY) !== undefined;

/**
 * Creates the schema, or recreates it (empty) when the file holds another format or a
 * rebuild that never finished (BUILDING_KEY), unless `keepBuilding`: the index writer
 * thread, which opens its connection in the middle of a rebuild. Returns true if it
 * (re)created: the caller must rebuild.
 */
export function ensureSchema(db: Database.Database, keepBuilding = false): boolean {
  if (storedFormat(db) === INDEX_FORMAT && (keepBuilding || !interrupted(db))) return false;
  db.transaction(() => {
    for (const t of TABLES) db.exec(`DROP TABLE IF EXISTS ${t}`);
    db.exec(DDL);
    db.exec(RID_INDEXES);
    for (const ddl of SEARCH_INDEXES) db.exec(ddl);
    db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?)`).run(JSON.stringify(INDEX_FORMAT));
  }).immediate();
  return true;
}

/** Drops the search indexes and marks the index as being rebuilt; inside the caller's transaction. */
export function dropSearchIndexes(db: Database.Database): void {
  for (const ddl of SEARCH_INDEXES) db.exec(`DROP INDEX IF EXISTS ${indexName(ddl)}`);
  db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, 'true')`).run(BUILDING_KEY);
}

/** Creates the search indexes (a sort each) and clears the mark; inside the caller's transaction. */
export function createSearchIndexes(db: Database.Database): void {
  for (const ddl of SEARCH_INDEXES) db.exec(ddl.replace('CREATE INDEX', 'CREATE INDEX IF NOT EXISTS'));
  db.prepare(`DELETE FROM meta WHERE key = ?`).run(BUILDING_KEY);
}
