/**
 * Test helpers: what someone with the key and a SQLite shell can do to audit.db: open it,
 * read an event's stored body and store an edited one (decoding and re-encoding its block).
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { decodeBlock, encodeBlock } from '../audit-db';

/** audit.db as an attacker with the key sees it: better-sqlite3 directly, no audit code. */
export function rawAuditDb(file: string, key: Buffer, timeoutMs?: number): Database.Database {
  const db = new Database(file, timeoutMs === undefined ? {} : { timeout: timeoutMs });
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`key="x'${key.toString('hex')}'"`);
  return db;
}

/** The stored JSON text of event `seq`. */
export function storedBody(db: Database.Database, seq: number): string {
  const { first, jsons } = blockOf(db, seq);
  return jsons[seq - first]!;
}

/** Replaces the stored JSON text of event `seq` with `edit(text)`; returns the new text. */
export function editStoredBody(db: Database.Database, seq: number, edit: (json: string) => string): string {
  const { first, jsons } = blockOf(db, seq);
  const changed = edit(jsons[seq - first]!);
  jsons[seq - first] = changed;
  const n = db.prepare('UPDATE block SET body = ? WHERE first = ?').run(encodeBlock(jsons), first).changes;
  if (n !== 1) throw new Error(`block ${first} not updated`);
  return changed;
}

function blockOf(db: Database.Database, seq: number): { first: number; jsons: string[] } {
  const first = db.prepare('SELECT block FROM event WHERE seq = ?').pluck().get(seq) as number | null | undefined;
  if (first === null || first === undefined) throw new Error(`event ${seq} has no block`);
  const body = db.prepare('SELECT body FROM block WHERE first = ?').pluck().get(first) as Buffer;
  return { first, jsons: decodeBlock(body) };
}
