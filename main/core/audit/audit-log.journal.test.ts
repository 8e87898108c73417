/**
 * The journaled audit log (the serving process's mode) on real files: write() answers once
 * the events are sealed in the journal, reads chain them first, a crash image is replayed
 * exactly once, a torn tail is dropped and earlier damage refused, the journal holds no
 * plaintext, and a locked audit.db makes recording fail closed after backlogMs, then
 * recover with nothing lost. Also: rows stored as text (format 1) still verify.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, MemorySecretStore } from './__fixtures__/events';
import { rawAuditDb, storedBody } from './__fixtures__/storage';
import { readJournal, journalKey } from './audit-journal';
import { AuditChainError, AuditLog, AuditWriteError, type AuditLogOptions } from './audit-log';

const WS = 'ab12cd';
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let opts: AuditLogOptions;
let open: AuditLog[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-audit-journal-'));
  opts = optsIn(dir, randomBytes(32), new MemorySecretStore());
  open = [];
});

afterEach(async () => {
  for (const log of open) await log.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function optsIn(d: string, key: Buffer, secrets: MemorySecretStore): AuditLogOptions {
  return { file: join(d, 'audit.db'), journal: join(d, 'audit.journal'), key, workstationId: WS, secrets, headAccount: `${WS}/audit-head` };
}

async function openLog(extra: Partial<AuditLogOptions> = {}): Promise<AuditLog> {
  const log = await AuditLog.open({ ...opts, ...extra });
  open.push(log);
  return log;
}

/** The files as a crash would leave them: copied while the log is open, before its next batch. */
function crashImage(): string {
  const copy = mkdtempSync(join(tmpdir(), 'flint-audit-crash-'));
  for (const f of ['audit.db', 'audit.db-wal', 'audit.journal']) if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(copy, f));
  return copy;
}

const rawDb = (file = opts.file) => rawAuditDb(file, opts.key, 100);

const storedCount = (file = opts.file) => {
  const db = rawDb(file);
  try {
    return (db.prepare('SELECT count(*) AS n FROM event').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('journaled audit log', () => {
  it('write() answers once journaled; a batch chains them; reads see them at once', async () => {
    const log = await openLog({ flushMs: 60_000 });
    await log.write([auditEvent(at(0), 'p0')]);
    await log.write([auditEvent(at(1), 'p1'), auditEvent(at(2), 'p2')]);
    expect(log.stats()).toMatchObject({ commits: 0, journaled: 2 });
    expect(storedCount()).toBe(0); // not in audit.db yet, only in the journal
    expect(readJournal(opts.journal!, journalKey(opts.key)).records.map((r) => r.events.length)).toEqual([1, 2]);
    // A read of the log chains what is journaled first.
    expect(log.range({ limit: 10 }).map((e) => e.event.entity?.[0]?.what?.reference)).toEqual(['Patient/p0', 'Patient/p1', 'Patient/p2']);
    expect(log.stats()).toMatchObject({ commits: 1, events: 3 });
    expect(readFileSync(opts.journal!).length).toBe(0); // emptied after the commit
    expect(await log.verify()).toEqual({ ok: true, events: 3 });
  });

  it('chains a batch by itself after flushMs, and append() waits for its stored events', async () => {
    const log = await openLog({ flushMs: 20 });
    const [stored] = await log.append([auditEvent(at(0))]);
    expect(stored).toMatchObject({ id: `${WS}-1`, seq: 1 });
    await log.write([auditEvent(at(1))]);
    await sleep(100);
    expect(storedCount()).toBe(2);
  });

  it('a crash image is replayed at the next open, exactly once', async () => {
    const secrets = opts.secrets as MemorySecretStore;
    const log = await openLog({ flushMs: 60_000 });
    await log.write([auditEvent(at(0), 'p0')]);
    expect(log.count()).toBe(1); // chained (a read chains what is journaled)
    await log.write([auditEvent(at(1), 'p1')]);
    await log.write([auditEvent(at(2), 'p2')]); // journaled only
    const crashed = crashImage();
    try {
      const copyOpts = optsIn(crashed, opts.key, secrets);
      const reopened = await AuditLog.open(copyOpts);
      const seen = reopened.range({ limit: 10 }).map((e) => [e.seq, e.event.entity?.[0]?.what?.reference]);
      expect(seen).toEqual([
        [1, 'Patient/p0'],
        [2, 'Patient/p1'],
        [3, 'Patient/p2'],
      ]);
      expect(await reopened.verify()).toEqual({ ok: true, events: 3 });
      await reopened.close();
      // The journal as it was before it was emptied (a crash between commit and truncation): not chained twice.
      copyFileSync(join(dir, 'audit.journal'), join(crashed, 'audit.journal'));
      const again = await AuditLog.open(copyOpts);
      expect(again.count()).toBe(3);
      await again.write([auditEvent(at(3), 'p3')]);
      expect(again.range({ afterSeq: 3, limit: 10 }).map((e) => e.id)).toEqual([`${WS}-4`]);
      expect(await again.verify()).toEqual({ ok: true, events: 4 });
      await again.close();
    } finally {
      rmSync(crashed, { recursive: true, force: true });
    }
  });

  it('drops a torn last record (never answered) and refuses a damaged earlier one', async () => {
    const log = await openLog({ flushMs: 60_000 });
    await log.write([auditEvent(at(0), 'p0')]);
    await log.write([auditEvent(at(1), 'p1')]);
    const torn = crashImage();
    const damaged = crashImage();
    try {
      appendFileSync(join(torn, 'audit.journal'), Buffer.from([0, 0, 1, 0, 7, 7, 7])); // a write cut short
      const fromTorn = await AuditLog.open(optsIn(torn, opts.key, opts.secrets as MemorySecretStore));
      expect(fromTorn.count()).toBe(2);
      await fromTorn.close();

      const file = join(damaged, 'audit.journal');
      const bytes = readFileSync(file);
      bytes[20] = bytes[20]! ^ 0xff; // inside the first of two records
      writeFileSync(file, bytes);
      await expect(AuditLog.open(optsIn(damaged, opts.key, opts.secrets as MemorySecretStore))).rejects.toBeInstanceOf(AuditChainError);
    } finally {
      rmSync(torn, { recursive: true, force: true });
      rmSync(damaged, { recursive: true, force: true });
    }
  });

  it('a reader counts what the journal holds beyond the last batch', async () => {
    const log = await openLog({ flushMs: 60_000 });
    await log.write([auditEvent(at(0))]);
    expect(log.count()).toBe(1); // chained
    await log.write([auditEvent(at(1)), auditEvent(at(2))]);
    const reader = await openLog({ readOnly: true });
    expect(reader.journalBacklog()).toBe(2);
    expect(await reader.verify()).toEqual({ ok: true, events: 1 }); // a reader never chains them
    log.count();
    expect(reader.journalBacklog()).toBe(0);
  });

  it('the journal holds nothing readable', async () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    const log = await openLog({ flushMs: 60_000 });
    await log.write([auditEvent(at(0), 'p1', marker)]);
    const bytes = readFileSync(opts.journal!);
    expect(bytes.length).toBeGreaterThan(0);
    for (const needle of [marker, 'AuditEvent', 'Patient/p1']) expect(bytes.includes(needle), needle).toBe(false);
  });

  it('fails closed once audit.db has been locked for backlogMs, then recovers losing nothing', async () => {
    const log = await openLog({ flushMs: 10, backlogMs: 200 });
    const holder = rawDb();
    holder.exec('BEGIN IMMEDIATE');
    try {
      await log.write([auditEvent(at(0), 'p0')]); // journaled: answered
      await sleep(300); // batches keep failing; the oldest event now waits longer than backlogMs
      await expect(log.write([auditEvent(at(1), 'refused')])).rejects.toBeInstanceOf(AuditWriteError);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await log.write([auditEvent(at(2), 'p2')]); // the retry inside write() succeeds at once
    const refs = log.range({ limit: 10 }).map((e) => e.event.entity?.[0]?.what?.reference);
    expect(refs).toEqual(['Patient/p0', 'Patient/p2']);
    expect(await log.verify()).toEqual({ ok: true, events: 2 });
  });

  it('reads rows stored as text (format 1) as they are', async () => {
    const log = await openLog();
    await log.append([auditEvent(at(0)), auditEvent(at(1))]);
    await log.close();
    const db = rawDb();
    const body = storedBody(db, 2);
    db.prepare('UPDATE event SET json = ?, block = NULL WHERE seq = 2').run(body); // the same JSON, as a format 1 row holds it
    db.close();
    const reader = await openLog({ readOnly: true });
    expect(await reader.verify()).toEqual({ ok: true, events: 2 });
  });
});
