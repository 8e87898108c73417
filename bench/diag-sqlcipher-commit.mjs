/**
 * Diagnostic, not a benchmark: what one COMMIT of a Synthea-sized write costs in SQLite
 * under the settings Flint uses (SQLCipher 4, WAL, synchronous=FULL, 4 KiB pages, the
 * default auto-checkpoint) and under alternatives. Writes --tx transactions of --docs rows
 * each into two tables shaped like PouchDB's websql adapter (by-sequence + document-store),
 * straight through better-sqlite3, no PouchDB.
 *
 *   node bench/diag-sqlcipher-commit.mjs [--tx 90] [--docs 460] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, f0, f1, table, tempDir } from './lib.mjs';

const { values } = parseArgs({ options: { tx: { type: 'string' }, docs: { type: 'string' }, rounds: { type: 'string' } } });
const TX = Number(values.tx ?? 90);
const DOCS = Number(values.docs ?? 460);
const ROUNDS = Number(values.rounds ?? 2);
const Database = createRequire(join(REPO, 'package.json'))('better-sqlite3-multiple-ciphers');
// About the size of a stored Synthea resource document (1.3 kB of JSON).
const json = JSON.stringify({ resourceType: 'Observation', status: 'final', text: 'x'.repeat(1200), code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] } });

const VARIANTS = [
  ['sqlcipher, FULL, 4 KiB pages (as Flint)', { key: true, sync: 'FULL' }],
  ['sqlcipher, NORMAL', { key: true, sync: 'NORMAL' }],
  ['sqlcipher, FULL, no auto-checkpoint', { key: true, sync: 'FULL', autocheckpoint: 0 }],
  ['sqlcipher, FULL, 16 KiB pages', { key: true, sync: 'FULL', pageSize: 16384 }],
  ['plain SQLite, FULL (no encryption)', { key: false, sync: 'FULL' }],
  ['sqlcipher, FULL, no auto-checkpoint, 8 KiB pages', { key: true, sync: 'FULL', autocheckpoint: 0, pageSize: 8192 }],
  ['sqlcipher, FULL, no auto-checkpoint, 16 KiB pages', { key: true, sync: 'FULL', autocheckpoint: 0, pageSize: 16384 }],
  ['chacha20, FULL, no auto-checkpoint', { key: true, cipher: 'chacha20', sync: 'FULL', autocheckpoint: 0 }],
  ['plain SQLite, FULL, no auto-checkpoint', { key: false, sync: 'FULL', autocheckpoint: 0 }],
];

function trial({ key, cipher, sync, pageSize, autocheckpoint }) {
  const dir = tempDir('flint-bench-sqlite-');
  const db = new Database(join(dir, 'db'));
  if (key) {
    db.pragma(`cipher='${cipher ?? 'sqlcipher'}'`);
    if (!cipher) db.pragma('legacy=4');
    db.pragma(`key="x'${randomBytes(32).toString('hex')}'"`);
  }
  if (pageSize) db.pragma(`page_size=${pageSize}`);
  db.pragma('journal_mode=WAL');
  db.pragma(`synchronous=${sync}`);
  db.pragma('temp_store=MEMORY');
  if (autocheckpoint !== undefined) db.pragma(`wal_autocheckpoint=${autocheckpoint}`);
  db.exec(`CREATE TABLE seqs (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT, rev TEXT, json TEXT, deleted INT);
           CREATE UNIQUE INDEX seqs_idx ON seqs (doc_id, rev);
           CREATE TABLE docs (id TEXT UNIQUE, winningseq INT, max_seq INT UNIQUE, json TEXT)`);
  const insSeq = db.prepare('INSERT INTO seqs (doc_id, rev, json, deleted) VALUES (?, ?, ?, 0)');
  const insDoc = db.prepare('INSERT INTO docs VALUES (?, ?, ?, ?)');
  let insertMs = 0;
  let commitMs = 0;
  for (let t = 0; t < TX; t++) {
    db.exec('BEGIN IMMEDIATE');
    const s = performance.now();
    for (let i = 0; i < DOCS; i++) {
      const id = `h:Observation/${randomBytes(16).toString('hex')}`;
      const r = insSeq.run(id, '1-0123456789abcdef', json);
      insDoc.run(id, r.lastInsertRowid, r.lastInsertRowid, `{"id":"${id}","rev_tree":[{"pos":1,"ids":["0123456789abcdef",{"status":"available"},[]]}]}`);
    }
    const c = performance.now();
    insertMs += c - s;
    db.exec('COMMIT');
    commitMs += performance.now() - c;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { insertMs, commitMs };
}

const rows = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const [label, v] of VARIANTS) {
    const r = trial(v);
    rows.push([label, round, f0(r.insertMs), f0(r.commitMs), f1(r.commitMs / TX)]);
  }
}
console.log(`${TX} transactions of ${DOCS} documents (${json.length} bytes of JSON each)\n`);
console.log(table(rows, ['variant', 'round', 'inserts ms', 'commits ms', 'ms per COMMIT']));
