/**
 * `<dataDir>/auth.db`: the workstation's accounts, roles, registered apps and grants, in
 * its own SQLCipher database (key purposeKey('auth')), synchronous=FULL: it is a system
 * of record, not derived data. Never replicated: accounts are per workstation, which is
 * what lets a clinic log in while offline.
 *
 * SQLite's own locking lets `flint user` / `flint app` / `flint token` use it while a
 * server holds the data dir (the store itself is one process at a time). Secrets in it
 * are hashed: passwords with scrypt, codes and refresh tokens with SHA-256.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { openSqlcipherFile } from '../store/sqlcipher-file';

const FORMAT = 1;

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE user (
  id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE, display TEXT,
  password TEXT NOT NULL, roles TEXT NOT NULL, fhir_user TEXT,
  disabled INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL, updated INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE role (name TEXT PRIMARY KEY, description TEXT NOT NULL, permissions TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE app (
  client_id TEXT PRIMARY KEY, name TEXT NOT NULL, redirect_uris TEXT NOT NULL, origins TEXT NOT NULL,
  jwks TEXT, scope TEXT NOT NULL, role TEXT, revoked INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE auth_code (
  hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL,
  challenge TEXT NOT NULL, patient TEXT, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE refresh_token (
  hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL, patient TEXT,
  expires INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE revoked_token (jti TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE used_assertion (jti TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface AuthDb {
  run(sql: string, ...args: unknown[]): number;
  all<T>(sql: string, ...args: unknown[]): T[];
  get<T>(sql: string, ...args: unknown[]): T | undefined;
  /** Runs `fn` in one IMMEDIATE transaction: all of it or nothing. */
  atomically<T>(fn: () => T): T;
  /**
   * Changes whenever the database may have changed: a commit by another connection (a
   * `flint user` command beside the server: SQLite's data_version) or a write through
   * this one. What a cache of values read from it is checked against.
   */
  version(): string;
  close(): void;
}

export function openAuthDb(file: string, key: Buffer): AuthDb {
  const db = openSqlcipherFile(file, key, { synchronous: 'FULL', what: 'the accounts database' });
  migrate(db);
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  let writes = 0;
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  return {
    run: (sql, ...args) => {
      writes++;
      return stmt(sql).run(...args).changes;
    },
    all: <T>(sql: string, ...args: unknown[]) => stmt(sql).all(...args) as T[],
    get: <T>(sql: string, ...args: unknown[]) => stmt(sql).get(...args) as T | undefined,
    atomically: <T>(fn: () => T) => {
      writes++;
      return db.transaction(fn).immediate();
    },
    version: () => `${String(dataVersion.get())}.${writes}`,
    close() {
      statements.clear();
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
    if (!hasMeta) {
      db.exec(DDL);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?)`).run(String(FORMAT));
      return;
    }
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as { value: string } | undefined;
    // A system of record is never dropped and recreated: a newer format needs a newer Flint.
    if (Number(row?.value) !== FORMAT) throw new Error(`accounts database format ${row?.value ?? '?'} is not supported by this version`);
  }).immediate();
}
