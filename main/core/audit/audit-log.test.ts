/**
 * The audit log on a real SQLCipher file in a temp dir, with an in-memory keychain: append
 * and read back, group commit, fail closed, tamper detection at the storage level (changed,
 * removed newest, removed middle), the keychain head, wrong key, no plaintext on disk, and
 * range reads for export.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlcipherOpenError } from '../store/sqlcipher-file';
import { auditEvent, MemorySecretStore } from './__fixtures__/events';
import { canonicalJson, hashEvent, hashJson } from './audit-chain';
import { editStoredBody, rawAuditDb } from './__fixtures__/storage';
import { encodeBlock } from './audit-db';
import { AuditChainError, AuditLog, AuditWriteError, type AuditLogOptions } from './audit-log';

const WS = 'ab12cd';
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

let dir: string;
let opts: AuditLogOptions;
let secrets: MemorySecretStore;
let open: AuditLog[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-audit-'));
  secrets = new MemorySecretStore();
  opts = { file: join(dir, 'audit.db'), key: randomBytes(32), workstationId: WS, secrets, headAccount: `${WS}/audit-head` };
  open = [];
});

afterEach(async () => {
  for (const log of open) await log.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function openLog(extra: Partial<AuditLogOptions> = {}): Promise<AuditLog> {
  const log = await AuditLog.open({ ...opts, ...extra });
  open.push(log);
  return log;
}

/** n events, one a minute from T0, in one append. */
async function filled(n: number): Promise<AuditLog> {
  const log = await openLog();
  await log.append(Array.from({ length: n }, (_, i) => auditEvent(at(i), `p${i}`)));
  return log;
}

/** The file as an attacker with the key sees it: better-sqlite3 directly, no audit code. */
const rawDb = () => rawAuditDb(opts.file, opts.key);

function tamper(sql: string, ...args: unknown[]): void {
  const db = rawDb();
  try {
    expect(db.prepare(sql).run(...args).changes).toBeGreaterThan(0);
  } finally {
    db.close();
  }
}

const head = () => JSON.parse(secrets.values.get(opts.headAccount) ?? 'null') as { seq: number; hash: string } | null;

describe('append and read', () => {
  it('assigns <workstationId>-<seq> ids, chains the hashes and reads the events back', async () => {
    const log = await openLog();
    const [a, b] = await log.append([auditEvent(at(0), 'p1'), auditEvent(at(1), 'p2')]);
    const [c] = await log.append([auditEvent(at(2), 'p3')]);
    expect([a!.id, b!.id, c!.id]).toEqual([`${WS}-1`, `${WS}-2`, `${WS}-3`]);
    expect(a!.prev).toBe('');
    expect(b!.prev).toBe(a!.hash);
    expect(c!.prev).toBe(b!.hash);
    expect(b!.hash).toBe(hashEvent(a!.hash, b!.event));
    expect(b!.event.id).toBe(b!.id);
    expect(log.get(`${WS}-2`)).toEqual(b);
    expect(log.get(`${WS}-9`)).toBeUndefined();
    expect(log.count()).toBe(3);
    expect(log.range({ limit: 10 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await log.verify()).toEqual({ ok: true, events: 3 });
  });

  it('keeps the chain across close and reopen, and saves the head to the keychain on close', async () => {
    const log = await filled(3);
    const third = log.get(`${WS}-3`)!;
    await log.close();
    expect(head()).toEqual({ seq: 3, hash: third.hash });
    const again = await openLog();
    const [d] = await again.append([auditEvent(at(3))]);
    expect(d!.seq).toBe(4);
    expect(d!.prev).toBe(head()!.hash);
    await again.close();
    expect(head()!.seq).toBe(4);
    expect(await (await openLog({ readOnly: true })).verify()).toEqual({ ok: true, events: 4 });
  });

  it('stores a copy: changing the event after append changes nothing', async () => {
    const log = await openLog();
    const event = auditEvent(at(0));
    const [s] = await log.append([event]);
    event.outcome = '8';
    expect(log.get(s!.id)!.event.outcome).toBe('0');
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it('refuses what is not an AuditEvent with a valid recorded time, without writing anything', async () => {
    const log = await openLog();
    await expect(log.append([{ ...auditEvent(at(0)), recorded: 'yesterday' }])).rejects.toThrow(/recorded/);
    await expect(log.append([{ resourceType: 'Patient' } as never])).rejects.toThrow(/only AuditEvents/);
    expect(log.count()).toBe(0);
  });

  it('canonical JSON sorts keys recursively and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('canonical JSON keeps the text of deeply frozen values only: a mutable part is serialised afresh', () => {
    const inner = { y: 1 };
    const shallow = Object.freeze({ a: inner, b: Object.freeze({ c: 'x' }) });
    expect(canonicalJson(shallow)).toBe('{"a":{"y":1},"b":{"c":"x"}}');
    inner.y = 2; // a frozen object's unfrozen member can still change
    expect(canonicalJson(shallow)).toBe('{"a":{"y":2},"b":{"c":"x"}}');
    const deep = Object.freeze([Object.freeze({ k: 'v' }), 3]);
    expect(canonicalJson(deep)).toBe('[{"k":"v"},3]');
    expect(canonicalJson({ x: deep })).toBe('{"x":[{"k":"v"},3]}');
  });
});

describe('group commit', () => {
  it('writes 200 concurrent appends in a few commits, gapless, each caller getting its own events', async () => {
    const log = await openLog();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append([auditEvent(at(i), `p${i}`)])));
    expect(log.stats().commits).toBeLessThanOrEqual(3);
    expect(log.stats().events).toBe(200);
    results.forEach(([s], i) => expect(s!.event.entity![0]!.what!.reference).toBe(`Patient/p${i}`));
    expect(results.map(([s]) => s!.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await log.verify()).toEqual({ ok: true, events: 200 });
    // Heads are coalesced: far fewer keychain writes than groups, and the newest wins.
    await log.close();
    expect(secrets.sets).toBeLessThanOrEqual(log.stats().commits + 1);
    expect(head()!.seq).toBe(200);
  });

  it('fails closed: a failed commit rejects every caller of its group and stores none of it', async () => {
    const log = await filled(1);
    // Storage-level sabotage: every insert now aborts.
    const db = rawDb();
    db.exec(`CREATE TRIGGER sabotage BEFORE INSERT ON event BEGIN SELECT RAISE(ABORT, 'no'); END`);
    const attempts = [log.append([auditEvent(at(1))]), log.append([auditEvent(at(2)), auditEvent(at(3))])];
    for (const a of attempts) await expect(a).rejects.toBeInstanceOf(AuditWriteError);
    expect(log.count()).toBe(1);
    db.exec('DROP TRIGGER sabotage');
    db.close();
    const [next] = await log.append([auditEvent(at(4))]);
    expect(next!.seq).toBe(2);
    expect(await log.verify()).toEqual({ ok: true, events: 2 });
  });

  it('does not wait for the keychain: appends succeed while it refuses, and close() reports the unsaved head', async () => {
    const log = await filled(2);
    await log.close();
    const again = await openLog();
    secrets.failSets = true;
    await expect(again.append([auditEvent(at(5))])).resolves.toHaveLength(1);
    await expect(again.close()).rejects.toThrow(/keychain locked/);
    expect(head()!.seq).toBe(2);
  });

  it('rejects appends after close', async () => {
    const log = await openLog();
    await log.close();
    await expect(log.append([auditEvent(at(0))])).rejects.toBeInstanceOf(AuditWriteError);
  });
});

describe('tamper detection at the storage level', () => {
  async function closedLog(n: number): Promise<void> {
    const log = await filled(n);
    await log.close();
  }
  const verify = async () => (await openLog({ readOnly: true })).verify();

  it('an edited event: verify names its seq', async () => {
    await closedLog(10);
    const db = rawDb();
    try {
      editStoredBody(db, 6, (json) => json.replace('Patient/p5', 'Patient/p0'));
    } finally {
      db.close();
    }
    expect(await verify()).toEqual({ ok: false, seq: 6, problem: expect.stringMatching(/does not match its hash/) });
  });

  it('an edited event whose hash was recomputed: the next link breaks', async () => {
    await closedLog(10);
    const db = rawDb();
    const { prev } = db.prepare('SELECT prev FROM event WHERE seq = 4').get() as { prev: string };
    let json: string;
    try {
      json = editStoredBody(db, 4, (text) => text.replace('Patient/p3', 'Patient/p0'));
    } finally {
      db.close();
    }
    tamper('UPDATE event SET hash = ? WHERE seq = 4', hashJson(prev, json));
    expect(await verify()).toEqual({ ok: false, seq: 5, problem: expect.stringMatching(/link to the previous event is broken/) });
  });

  it('a changed recorded column (hiding an event from export): reported', async () => {
    await closedLog(5);
    tamper('UPDATE event SET recorded = recorded + 86400000 WHERE seq = 3');
    expect(await verify()).toEqual({ ok: false, seq: 3, problem: expect.stringMatching(/recorded time/) });
  });

  it('the newest event deleted: verify reports the missing link against the keychain head', async () => {
    await closedLog(10);
    tamper('DELETE FROM event WHERE seq = 10');
    expect(await verify()).toEqual({ ok: false, seq: 10, problem: expect.stringMatching(/event 10 is missing.*keychain is at 10/) });
  });

  it('every event deleted: all reported missing', async () => {
    await closedLog(4);
    tamper('DELETE FROM event');
    expect(await verify()).toEqual({ ok: false, seq: 1, problem: expect.stringMatching(/events 1 to 4 are missing/) });
  });

  it('a middle event deleted: the gap is reported', async () => {
    await closedLog(10);
    tamper('DELETE FROM event WHERE seq = 4');
    expect(await verify()).toEqual({ ok: false, seq: 4, problem: expect.stringMatching(/event 4 is missing/) });
  });

  it('a renumbered id: reported', async () => {
    await closedLog(3);
    tamper(`UPDATE event SET id = 'zz99zz-2' WHERE seq = 2`);
    expect(await verify()).toEqual({ ok: false, seq: 2, problem: `its id is not ${WS}-2` });
  });

  it('after the newest events are lost, new appends continue after the keychain head so the gap stays visible', async () => {
    await closedLog(5);
    tamper('DELETE FROM event WHERE seq >= 4');
    const log = await openLog();
    const [next] = await log.append([auditEvent(at(9))]);
    expect(next!.seq).toBe(6);
    await log.close();
    expect(head()!.seq).toBe(6);
    expect(await verify()).toEqual({ ok: false, seq: 4, problem: expect.stringMatching(/events 4 to 5 are missing/) });
  });

  it('an event that disagrees with the keychain head: opening for writing refuses, verify names it', async () => {
    await closedLog(3);
    // As if seq 3 had been rewritten (hashes recomputed) after its head was saved.
    secrets.values.set(opts.headAccount, JSON.stringify({ seq: 3, hash: 'a'.repeat(64) }));
    await expect(AuditLog.open(opts)).rejects.toBeInstanceOf(AuditChainError);
    expect(await verify()).toEqual({ ok: false, seq: 3, problem: expect.stringMatching(/disagrees with the chain head/) });
  });
});

describe('the file', () => {
  it('a wrong key fails to open with a clear error', async () => {
    await (await filled(2)).close();
    const err = await AuditLog.open({ ...opts, key: randomBytes(32) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlcipherOpenError);
    expect((err as Error).message).toMatch(/the audit log could not be opened: wrong key/);
  });

  it.each([
    ['1', (json: string) => json], // a text body per row
    ['2', (json: string) => encodeBlock([json])], // a deflated body per row (a block of one)
  ])('upgrades a format %s file in place: its rows stay readable, new events go in blocks', async (format, stored) => {
    const db = rawDb(); // a file as that format wrote it
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE event (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded INTEGER NOT NULL,
        prev TEXT NOT NULL, hash TEXT NOT NULL, json TEXT NOT NULL);
      CREATE INDEX event_recorded ON event (recorded);`);
    db.prepare(`INSERT INTO meta VALUES ('format', ?), ('workstation', ?)`).run(format, WS);
    const json = canonicalJson({ ...auditEvent(at(0), 'old'), id: `${WS}-1` });
    db.prepare('INSERT INTO event VALUES (1, ?, ?, ?, ?, ?)').run(`${WS}-1`, at(0).getTime(), '', hashJson('', json), stored(json));
    db.close();
    const reader = await openLog({ readOnly: true }); // a reader leaves the file as it is
    expect(reader.range({ limit: 5 }).map((e) => e.event.entity?.[0]?.what?.reference)).toEqual(['Patient/old']);
    expect(await reader.verify()).toEqual({ ok: true, events: 1 });
    await reader.close();
    const log = await openLog();
    await log.append([auditEvent(at(1), 'new1'), auditEvent(at(2), 'new2')]);
    expect(log.range({ limit: 5 }).map((e) => e.event.entity?.[0]?.what?.reference)).toEqual(['Patient/old', 'Patient/new1', 'Patient/new2']);
    expect(await log.verify()).toEqual({ ok: true, events: 3 });
    const after = rawDb();
    expect(after.prepare(`SELECT value FROM meta WHERE key = 'format'`).pluck().get()).toBe('3');
    expect(after.prepare('SELECT count(*) FROM block').pluck().get()).toBe(1);
    after.close();
  });

  it('belongs to one workstation', async () => {
    await (await filled(1)).close();
    await expect(AuditLog.open({ ...opts, workstationId: 'zz99zz' })).rejects.toThrow(/belongs to workstation ab12cd/);
  });

  it('holds nothing readable: a unique marker is in no byte of any file, open or closed', async () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    const log = await openLog();
    await log.append([auditEvent(at(0), 'p1', marker), ...Array.from({ length: 50 }, (_, i) => auditEvent(at(i + 1)))]);
    const scan = () => {
      const files = readdirSync(dir);
      expect(files).toContain('audit.db');
      for (const f of files) {
        const bytes = readFileSync(join(dir, f));
        for (const needle of [marker, 'AuditEvent', 'Patient/p1']) expect(bytes.includes(needle), `${needle} in ${f}`).toBe(false);
      }
    };
    scan(); // with the WAL
    await log.close();
    scan();
  });
});

describe('range reads', () => {
  it('filters on recorded (since inclusive, until exclusive) in seq order, in pages', async () => {
    const log = await filled(2500); // more than one internal page
    const since = at(1000);
    const until = at(2200);
    const all = [...log.scan({ since, until })];
    expect(all).toHaveLength(1200);
    expect(all[0]!.seq).toBe(1001);
    expect(all.at(-1)!.seq).toBe(2200);
    expect(all.every((e, i) => i === 0 || e.seq === all[i - 1]!.seq + 1)).toBe(true);
    const page = log.range({ since, until, afterSeq: 1500, limit: 10 });
    expect(page.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 1501 + i));
    expect(log.range({ since: at(3000), limit: 10 })).toEqual([]);
    expect([...log.scan({ until: at(3) })].map((e) => e.event.recorded)).toEqual([at(0), at(1), at(2)].map((d) => d.toISOString()));
    expect(await log.verify()).toEqual({ ok: true, events: 2500 });
  });
});
