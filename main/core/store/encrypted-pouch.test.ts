import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3-multiple-ciphers';
import { vi } from 'vitest';
import { COUNT_DOCS_SQL, FlintPouchDB, StoreOpenError, knownDocIds, openEncryptedPouch, updateSeqOf } from './encrypted-pouch';

/** pouchdb-replication adds these; @types/pouchdb-replication is not installed. */
interface Replicating {
  replicate: { to(target: PouchDB.Database): Promise<{ ok: boolean; docs_written: number }> };
  sync(target: PouchDB.Database): Promise<unknown>;
}

let dir: string;
let key: Buffer;
const open: PouchDB.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-pouch-'));
  key = randomBytes(32);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close().catch(() => undefined)));
  rmSync(dir, { recursive: true, force: true });
});

async function openDb(name = 'store', k = key): Promise<PouchDB.Database> {
  const db = await openEncryptedPouch({ file: join(dir, `${name}.db`), key: k });
  open.push(db);
  return db;
}

describe('openEncryptedPouch', () => {
  it('puts, gets, updates, deletes and lists documents', async () => {
    const db = await openDb();
    const put = await db.put({ _id: 'a', n: 1 });
    expect(put.ok).toBe(true);
    const doc = await db.get<{ n: number }>('a');
    expect(doc.n).toBe(1);
    await db.put({ ...doc, n: 2 });
    await db.put({ _id: 'b', n: 3 });
    const all = await db.allDocs<{ n: number }>({ include_docs: true });
    expect(all.total_rows).toBe(-1); // not counted: see COUNT_DOCS_SQL
    expect(all.rows.map((r) => [r.id, r.doc?.n])).toEqual([['a', 2], ['b', 3]]);
    await db.remove(await db.get('b'));
    await expect(db.get('b')).rejects.toMatchObject({ status: 404 });
    expect((await db.allDocs({ startkey: 'a', endkey: 'a' })).rows.map((r) => r.id)).toEqual(['a']);
    const info = await db.info();
    expect(info.doc_count).toBe(1);
    expect(info.auto_compaction).toBe(true);
  });

  it('knownDocIds finds live and deleted documents among many ids, in one read', async () => {
    const db = await openDb();
    await db.bulkDocs(Array.from({ length: 1200 }, (_, i) => ({ _id: `d${i}` })));
    await db.remove(await db.get('d7'));
    const ids = [...Array.from({ length: 1300 }, (_, i) => `d${i}`), 'nope', '"quoted"', "o'brien"];
    const known = await knownDocIds(db, ids);
    expect(known.size).toBe(1200);
    expect(known.has('d7')).toBe(true); // deleted: its revision tree still exists
    expect(known.has('d1199')).toBe(true);
    expect(known.has('d1200')).toBe(false);
    expect(known.has('nope')).toBe(false);
    expect(await knownDocIds(db, [])).toEqual(new Set());
  });

  it('writes a bulkDocs batch and reports the changes feed in order', async () => {
    const db = await openDb();
    const docs = Array.from({ length: 100 }, (_, i) => ({ _id: `d${String(i).padStart(3, '0')}`, i }));
    const res = await db.bulkDocs(docs);
    expect(res.every((r) => 'ok' in r && r.ok)).toBe(true);
    const changes = await db.changes({ since: 0, include_docs: true });
    expect(changes.results.map((c) => c.id)).toEqual(docs.map((d) => d._id));
    expect(changes.last_seq).toBe(100);
    const since = await db.changes({ since: 90 });
    expect(since.results).toHaveLength(10);
  });

  it('delivers live changes', async () => {
    const db = await openDb();
    const seen: string[] = [];
    const feed = db.changes({ live: true, since: 'now' }).on('change', (c) => seen.push(c.id));
    await db.put({ _id: 'x' });
    await db.put({ _id: 'y' });
    await expect.poll(() => seen).toEqual(['x', 'y']);
    feed.cancel();
  });

  it('stores and returns attachments', async () => {
    const db = await openDb();
    const data = Buffer.concat([randomBytes(5000), Buffer.from([0, 1, 2, 0, 0])]);
    await db.put({ _id: 'a', _attachments: { 'scan.bin': { content_type: 'application/octet-stream', data } } });
    const got = (await db.getAttachment('a', 'scan.bin')) as Buffer;
    expect(Buffer.compare(got, data)).toBe(0);
    const doc = await db.get('a', { attachments: true, binary: true });
    expect(Buffer.compare(doc._attachments?.['scan.bin']?.['data'] as Buffer, data)).toBe(0);
    const listed = await db.allDocs({ include_docs: true, attachments: true, binary: true });
    expect(Buffer.compare(listed.rows[0]?.doc?._attachments?.['scan.bin']?.['data'] as Buffer, data)).toBe(0);
  });

  it('replicates between two encrypted stores, keeping conflict leaves despite auto-compaction', async () => {
    const a = await openDb('a');
    const b = await openDb('b', randomBytes(32));
    await a.bulkDocs(Array.from({ length: 50 }, (_, i) => ({ _id: `p${i}`, i })));
    await a.putAttachment('p0', 'note.txt', (await a.get('p0'))._rev, Buffer.from('hello'), 'text/plain');
    const rep = await (a as unknown as Replicating).replicate.to(b);
    expect(rep.ok).toBe(true);
    expect((await b.info()).doc_count).toBe(50);
    expect(((await b.getAttachment('p0', 'note.txt')) as Buffer).toString()).toBe('hello');

    // Edit the same document on both sides, then sync both ways.
    const base = await a.get<{ i: number }>('p1');
    await a.put({ ...base, i: 100 });
    await b.put({ ...(await b.get<{ i: number }>('p1')), i: 200 });
    await (a as unknown as Replicating).sync(b);
    const fromA = await a.get('p1', { conflicts: true });
    const fromB = await b.get('p1', { conflicts: true });
    expect(fromA._rev).toBe(fromB._rev);
    expect(fromA._conflicts).toHaveLength(1);
    expect(fromB._conflicts).toEqual(fromA._conflicts);
    // The losing leaf keeps its body; the superseded base revision was compacted away.
    const loser = await a.get<{ i: number }>('p1', { rev: fromA._conflicts?.[0] ?? '' });
    expect([100, 200]).toContain(loser.i);
    await expect(a.get('p1', { rev: base._rev })).rejects.toMatchObject({ status: 404 });
  });

  it('reopens with the same key after close, and close releases the file', async () => {
    const db = await openDb();
    await db.put({ _id: 'kept' });
    await db.close();
    expect(existsSync(join(dir, 'store.db-wal'))).toBe(false); // last connection closed: WAL checkpointed
    const again = await openDb();
    expect((await again.get('kept'))._id).toBe('kept');
  });

  it('destroy() empties the store and releases the connection', async () => {
    const db = await openEncryptedPouch({ file: join(dir, 'gone.db'), key });
    await db.put({ _id: 'x' });
    await db.destroy();
    expect(existsSync(join(dir, 'gone.db-wal'))).toBe(false); // the connection was closed
    const again = await openDb('gone');
    expect((await again.info()).doc_count).toBe(0);
  });

  it('refuses a wrong key with StoreOpenError and leaves the store intact', async () => {
    const db = await openDb();
    await db.put({ _id: 'kept' });
    await db.close();
    const file = join(dir, 'store.db');
    const before = readFileSync(file);
    const opening = openEncryptedPouch({ file, key: randomBytes(32) });
    await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
    await expect(opening).rejects.toThrow('the store could not be decrypted: wrong key or not a Flint store');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect((await (await openDb()).get('kept'))._id).toBe('kept');
  });

  it('refuses a second key for a store already open in this process', async () => {
    await openDb();
    await expect(openEncryptedPouch({ file: join(dir, 'store.db'), key: randomBytes(32) })).rejects.toBeInstanceOf(
      StoreOpenError,
    );
  });

  it('refuses a file that is not a store', async () => {
    const file = join(dir, 'notes.db');
    writeFileSync(file, 'Dear diary, '.repeat(1000));
    await expect(openEncryptedPouch({ file, key })).rejects.toThrow(/wrong key or not a Flint store/);
  });

  it('writes 10k documents in one bulkDocs and reads them all back (its speed: bench/create.mjs)', async () => {
    const db = await openDb();
    const docs = Array.from({ length: 10_000 }, (_, i) => ({
      _id: `Patient/${String(i).padStart(5, '0')}`,
      resourceType: 'Patient',
      name: [{ family: `Family${i}`, given: ['Given'] }],
      pad: 'x'.repeat(800),
    }));
    let t = performance.now();
    await db.bulkDocs(docs);
    const bulkMs = performance.now() - t;
    t = performance.now();
    const all = await db.allDocs({ include_docs: true });
    const allDocsMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 500; i++) await db.put({ _id: `seq-${i}` });
    const putMs = performance.now() - t;
    console.log(`10k x ~1KB bulkDocs ${bulkMs.toFixed(0)} ms; allDocs(include_docs) ${allDocsMs.toFixed(0)} ms; 500 sequential put ${putMs.toFixed(0)} ms`);
    expect(all.rows).toHaveLength(10_000);
    expect(all.rows.map((r) => r.id)).toEqual(docs.map((d) => d._id));
    expect(all.rows[9_999]!.doc).toMatchObject({ name: [{ family: 'Family9999' }] });
  });

  it('uses the one registered PouchDB class, with the http adapter for later sync', () => {
    const adapters = (FlintPouchDB as unknown as { adapters: Record<string, unknown> }).adapters;
    expect(Object.keys(adapters)).toEqual(expect.arrayContaining(['sqlcipher', 'http', 'https']));
  });
});

describe('allDocs without the whole-store count', () => {
  it('reads a range or keys without counting every document; info() still counts, exactly', async () => {
    const db = await openDb('countless');
    await db.bulkDocs(Array.from({ length: 30 }, (_, i) => ({ _id: `h:Patient/p${String(i).padStart(2, '0')}/1.ws`, n: i })));
    await db.remove(await db.get('h:Patient/p03/1.ws'));
    const prepared = vi.spyOn(Database.prototype, 'prepare');
    try {
      const range = await db.allDocs<{ n: number }>({ startkey: 'h:Patient/p02/', endkey: 'h:Patient/p04/\uffff', include_docs: true });
      expect(range.rows.map((r) => [r.id, r.doc?.n])).toEqual([['h:Patient/p02/1.ws', 2], ['h:Patient/p04/1.ws', 4]]);
      expect(range.total_rows).toBe(-1);
      const keyed = await db.allDocs({ keys: ['h:Patient/p05/1.ws', 'nope'] });
      expect(keyed.rows.map((r) => ('error' in r ? r.error : r.id))).toEqual(['h:Patient/p05/1.ws', 'not_found']);
      const sql = prepared.mock.calls.map(([text]) => String(text));
      expect(sql.some((t) => COUNT_DOCS_SQL.test(t))).toBe(false);
      // info() sends the statement the pattern names (so an adapter upgrade that changes it fails
      // here) and counts: 29 live documents.
      expect((await db.info()).doc_count).toBe(29);
      expect(prepared.mock.calls.map(([text]) => String(text)).some((t) => COUNT_DOCS_SQL.test(t))).toBe(true);
      // A read transaction after allDocs counts again (the skip applies to allDocs' own).
      expect((await db.info()).doc_count).toBe(29);
      // updateSeqOf: info()'s update_seq, without the count.
      const counts = prepared.mock.calls.length;
      expect(await updateSeqOf(db)).toBe((await db.info()).update_seq);
      expect(prepared.mock.calls.slice(counts).filter(([t]) => COUNT_DOCS_SQL.test(String(t))).length).toBeLessThanOrEqual(1); // info()'s own
    } finally {
      prepared.mockRestore();
    }
  });
});
