/**
 * The audit log: AuditEvents appended to audit.db in one hash chain per workstation
 * (docs/audit.md). The only writer of audit events; nothing else opens audit.db for writing.
 *
 * Two ways of writing (docs/audit.md, "Recording"):
 * - Direct (the CLI, tests): append() queues its events and the queue is committed on the
 *   next turn of the event loop, one INSERT per event and one COMMIT per group, so the
 *   requests handled in one turn share a transaction.
 * - Journaled (the serving process, which holds the data dir's lock): the group is first
 *   sealed into the audit journal (audit-journal.ts) in one write, and that is when
 *   write() answers; the journal's events are chained into audit.db in batches, every
 *   FLUSH_MS or FLUSH_EVENTS events, before any read of the log, and on close. A COMMIT
 *   per request would cost more than the request it records.
 * Each caller is answered when its events are written (journaled or committed), or
 * rejected when they could not be: the caller then fails closed (returns no data, writes
 * nothing). A journal whose batches cannot be committed for longer than backlogMs (the
 * file locked, the disk full) stops taking events: recording fails closed then too.
 *
 * The chain head {seq, hash} goes to the keychain after each commit, in the background
 * (audit-head.ts). It lets verify see that the newest events were removed.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { SecretStore } from '../secrets/secret-store';
import type { DataDir } from '../store/data-dir';
import type { StoredEvent } from './types';
import { join } from 'node:path';
import { AuditChainError, canonicalParts, eventId, hashJson, joinCanonical, verifyChain, type CanonicalParts, type ChainHead, type ChainRow, type ChainVerdict } from './audit-chain';
import { openAuditDb, type AuditDb } from './audit-db';
import { auditHeadAccount, ChainHeadKeeper } from './audit-head';
import { AuditJournal, journalKey, JournalDamagedError, readJournal, type ReadRecord } from './audit-journal';

export { AuditChainError } from './audit-chain';
export { auditHeadAccount, HEAD_INTERVAL_MS } from './audit-head';

export interface AuditLogOptions {
  /** `<dataDir>/audit.db`. */
  file: string;
  /** The data dir's purposeKey('audit'). */
  key: Buffer;
  workstationId: string;
  secrets: SecretStore;
  /** Keychain account of the chain head, `<workstationId>/audit-head` (auditHeadAccount). */
  headAccount: string;
  /** For readers (flint audit): no appends, no head written, no check at open. */
  readOnly?: boolean;
  /**
   * The audit journal's file: events are journaled first and chained in batches. Only
   * for the process that holds the data dir's lock (one journal, one owner); it replays
   * what a crashed predecessor left at open.
   */
  journal?: string;
  /** Journaled: a batch is committed this long after its first event (default FLUSH_MS). */
  flushMs?: number;
  /** Journaled: how long events may wait for a failing commit before recording fails closed. */
  backlogMs?: number;
}

export interface RangeQuery {
  /** event.recorded at or after this. */
  since?: Date;
  /** event.recorded before this. */
  until?: Date;
  /** Events after this seq (paging; 0 or absent: from the start). */
  afterSeq?: number;
  limit: number;
}

export type VerifyResult = ChainVerdict;

/** The commit of a group failed: none of its events is stored. */
export class AuditWriteError extends Error {
  constructor(readonly code: string, options?: { cause?: unknown }) {
    // The SQLite code only: an error message might one day quote a value.
    super(`the audit log could not be written (${code})`, options);
    this.name = 'AuditWriteError';
  }
}

/** Journaled events are chained into audit.db this long after the first of a batch... */
export const FLUSH_MS = 25;
/** ...or as soon as this many are waiting. */
export const FLUSH_EVENTS = 256;
/** A journal that cannot be committed for this long refuses new events (fail closed). */
export const BACKLOG_MS = 2000;
/** The serving process waits this long for another process's write lock, then retries later. */
const JOURNALED_BUSY_MS = 50;

/** `<dataDir>/audit.journal`. */
export const auditJournalFile = (dataDir: Pick<DataDir, 'dir'>): string => join(dataDir.dir, 'audit.journal');

/**
 * Opens a data dir's audit log with the usual file, key and keychain account; `journaled`
 * for the process that holds the data dir's lock (the server).
 */
export function openAuditLogOf(
  dataDir: Pick<DataDir, 'dir' | 'storeFile' | 'purposeKey' | 'workstationId'>,
  secrets: SecretStore,
  opts: { readOnly?: boolean; journaled?: boolean } = {},
): Promise<AuditLog> {
  const { journaled, ...rest } = opts;
  return AuditLog.open({
    file: dataDir.storeFile('audit'),
    key: dataDir.purposeKey('audit'),
    workstationId: dataDir.workstationId,
    secrets,
    headAccount: auditHeadAccount(dataDir.workstationId),
    // A reader is told the journal too, to count what it holds (journalBacklog), never to write it.
    ...(journaled ? { journal: auditJournalFile(dataDir) } : {}),
    ...rest,
  });
}

/** An event as it waits to be chained: its canonical JSON, with the place its id will take. */
interface Prepared {
  parts: CanonicalParts;
  recorded: number;
}

interface Pending {
  events: Prepared[];
  /** Called once the events are written: journaled, or committed with their links. */
  resolve(stored: StoredEvent[] | undefined): void;
  reject(err: unknown): void;
  /** The caller wants the stored events (append), not only the write (write): wait for the chain. */
  chained: boolean;
}

/** Rows per SELECT when walking the whole log: bounded memory for a million events. */
const PAGE = 1000;

export class AuditLog {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  /** Set when the store ends before the keychain head: appends continue after the head. */
  private resumeAfter: ChainHead | undefined;
  private commits = 0;
  private appended = 0;
  /** Journaled: events journaled and not yet chained, oldest first, and when the first was. */
  private unchained: Pending[] = [];
  private unchainedSince = 0;
  private unchainedEvents = 0;
  /** Journaled: the number of the last journal record written. */
  private journalN = 0;
  /** Journaled: when committing the journal's events started failing (0: it does not). */
  private failingSince = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  private readonly head: ChainHeadKeeper;

  private constructor(
    private readonly db: AuditDb,
    private readonly opts: AuditLogOptions,
    private readonly journal: AuditJournal | undefined,
  ) {
    this.head = new ChainHeadKeeper(opts.secrets, opts.headAccount);
  }

  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const journaled = opts.journal !== undefined && !opts.readOnly;
    const db = openAuditDb(opts.file, opts.key, opts.workstationId, {
      readOnly: opts.readOnly ?? false,
      ...(journaled ? { busyTimeoutMs: JOURNALED_BUSY_MS } : {}),
    });
    let journal: AuditJournal | undefined;
    try {
      if (journaled) journal = new AuditJournal(opts.journal!, journalKey(opts.key));
      const log = new AuditLog(db, opts, journal);
      if (opts.readOnly) return log;
      log.checkHead(await log.head.read());
      if (journal) log.replayJournal();
      return log;
    } catch (err) {
      journal?.close();
      db.close();
      throw err;
    }
  }

  /**
   * Appends events (ids are assigned here: `<workstationId>-<seq>`) and resolves with them
   * as stored once they are chained into audit.db. Rejects if they could not be written:
   * fail closed.
   */
  append(events: AuditEvent[]): Promise<StoredEvent[]> {
    return this.submit(events, true) as Promise<StoredEvent[]>;
  }

  /**
   * Writes events and resolves as soon as they are safe: journaled (journaled mode) or
   * committed. What the request path waits for. Rejects if they could not be: fail closed.
   */
  async write(events: AuditEvent[]): Promise<void> {
    await this.submit(events, false);
  }

  get(id: string): StoredEvent | undefined {
    this.flush();
    const row = this.db.byId(id);
    return row && toStored(row);
  }

  /** One page of events in seq order, filtered on event.recorded (since inclusive, until exclusive). */
  range(q: RangeQuery): StoredEvent[] {
    this.flush();
    return this.db.page(pageQuery(q)).map(toStored);
  }

  /** Every event of a range in seq order, read PAGE rows at a time. */
  *scan(q: Omit<RangeQuery, 'limit'> = {}): Generator<StoredEvent> {
    this.flush();
    for (const row of this.rows(q)) yield toStored(row);
  }

  count(): number {
    this.flush();
    return this.db.count();
  }

  /** The seq of the newest chained event (0: none). */
  lastSeq(): number {
    this.flush();
    return this.db.last()?.seq ?? 0;
  }

  /**
   * Events in the journal that are not chained yet (a reader's view: a server is running,
   * or stopped without closing and chains them when it next starts). 0 without a journal.
   * Throws AuditChainError if the journal was changed.
   */
  journalBacklog(): number {
    if (!this.opts.journal) return 0;
    const mark = this.db.journalMark();
    return this.journalRecords()
      .filter((r) => r.n > mark)
      .reduce((n, r) => n + r.events.length, 0);
  }

  /** The journal's whole records; a journal changed before its last record is an AuditChainError. */
  private journalRecords(): ReadRecord[] {
    try {
      return readJournal(this.opts.journal!, journalKey(this.opts.key)).records;
    } catch (err) {
      if (err instanceof JournalDamagedError) throw new AuditChainError(`${err.message}; its events cannot be trusted`);
      throw err;
    }
  }

  /** Commits and events written by this instance (tests see the grouping here). */
  stats(): { commits: number; events: number; journaled: number } {
    return { commits: this.commits, events: this.appended, journaled: this.journalN };
  }

  /** Walks the whole chain against the keychain head; reports the first broken or missing link. */
  async verify(): Promise<VerifyResult> {
    this.flush();
    // The head first: it is saved after its commit, so the rows read next are never older.
    const head = await this.head.read();
    return verifyChain(this.rows({}), this.opts.workstationId, head);
  }

  /**
   * Writes what is queued, chains what is journaled, saves the newest head, closes. Events
   * that cannot be chained now stay in the journal for the next open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) this.writeQueued(); // its setImmediate then finds an empty queue
    clearTimeout(this.flushTimer);
    this.flush();
    try {
      await this.head.close();
    } finally {
      this.journal?.close();
      this.db.close();
    }
  }

  private submit(events: AuditEvent[], chained: boolean): Promise<StoredEvent[] | undefined> {
    if (this.opts.readOnly) return Promise.reject(new Error('the audit log was opened read-only'));
    if (this.closed) return Promise.reject(new AuditWriteError('closed'));
    let prepared: Prepared[];
    try {
      prepared = events.map(prepare);
    } catch (err) {
      return Promise.reject(err);
    }
    if (prepared.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ events: prepared, resolve, reject, chained });
      if (!this.scheduled) {
        this.scheduled = true;
        // The next turn, not a microtask: the other requests of this turn join the group.
        setImmediate(() => this.writeQueued());
      }
    });
  }

  private writeQueued(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    if (this.journal) this.journalGroup(group);
    else this.commitGroup(group);
  }

  /** Direct: one transaction for the group. */
  private commitGroup(group: Pending[]): void {
    try {
      this.chain(group);
    } catch (err) {
      const failure = new AuditWriteError((err as { code?: string }).code ?? 'SQLITE_ERROR', { cause: err });
      for (const p of group) p.reject(failure);
    }
  }

  /**
   * Journaled: one sealed record for the turn's group, answered at once; chained by the
   * next flush. (A write(2) per call instead
   * measured 3,851 against 5,496 reads/s at 10 connections.)
   */
  private journalGroup(group: Pending[]): void {
    // Stuck: commits have failed and the oldest journaled event has waited too long. One
    // more try first, so that recording resumes the moment audit.db can be written again.
    const stuck = this.failingSince > 0 && Date.now() - this.unchainedSince > (this.opts.backlogMs ?? BACKLOG_MS);
    try {
      if (stuck && !this.flush()) throw new AuditWriteError('backlog');
      const n = this.journalN + 1;
      this.journal!.append({ n, events: group.flatMap((p) => p.events.map((e) => joinCanonical(e.parts, 'id'))) });
      this.journalN = n;
    } catch (err) {
      const failure = err instanceof AuditWriteError ? err : new AuditWriteError((err as { code?: string }).code ?? 'EIO', { cause: err });
      for (const p of group) p.reject(failure);
      return;
    }
    if (this.unchained.length === 0) {
      this.unchainedSince = Date.now();
      this.unchainedEvents = 0;
    }
    for (const p of group) {
      this.unchained.push(p);
      this.unchainedEvents += p.events.length;
      if (!p.chained) p.resolve(undefined);
    }
    if (this.unchainedEvents >= FLUSH_EVENTS) setImmediate(() => this.flush());
    else this.flushTimer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? FLUSH_MS);
  }

  /**
   * Journaled: chains every journaled event into audit.db in one transaction, with the
   * journal's mark, then empties the journal. On failure they stay journaled and it is
   * tried again shortly. Returns whether nothing is left unchained.
   */
  private flush(): boolean {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.journal || this.unchained.length === 0) return true;
    const batch = this.unchained;
    try {
      this.chain(batch, this.journalN);
    } catch {
      // Waiting appenders are not rejected: their events are journaled, hence kept.
      this.failingSince ||= Date.now();
      if (!this.closed) this.flushTimer = setTimeout(() => this.flush(), this.opts.flushMs ?? FLUSH_MS);
      return false;
    }
    this.unchained = [];
    this.failingSince = 0;
    try {
      this.journal.clear();
    } catch {
      // Harmless: the mark in audit.db keeps these records from being chained twice.
    }
    return true;
  }

  /**
   * One transaction: links and inserts the groups' events, sets the journal mark if
   * given, then answers the groups that wait for their stored events. Throws if the
   * commit failed (nothing of it is stored).
   */
  private chain(group: Pending[], journalMark?: number): void {
    const [stored, head] = this.db.atomically(() => {
      const written = this.writeGroup(group);
      if (journalMark !== undefined) this.db.setJournalMark(journalMark);
      return written;
    });
    this.commits++;
    group.forEach((p, i) => {
      this.appended += stored[i]!.length;
      // Parsed back only for callers that asked for the stored events (append).
      if (p.chained || !this.journal) p.resolve(p.chained ? stored[i]!.map(toStored) : undefined);
    });
    this.head.save(head);
  }

  /**
   * At open, journaled: the records a crashed predecessor journaled and did not chain
   * (those after audit.db's mark) are chained now, in their order. A torn last record was
   * never answered and is dropped; a damaged earlier one means the file was changed.
   */
  private replayJournal(): void {
    const mark = this.db.journalMark();
    this.journalN = mark;
    for (const r of this.journalRecords()) {
      this.journalN = Math.max(this.journalN, r.n);
      if (r.n <= mark) continue;
      const events = r.events.map((e) => prepare(e as AuditEvent));
      this.unchained.push({ events, resolve: () => undefined, reject: () => undefined, chained: false });
      this.unchainedEvents += events.length;
    }
    if (this.unchained.length > 0) this.unchainedSince = Date.now();
    // Chained now; if audit.db is locked, by the next flush (the journal keeps them meanwhile).
    if (!this.flush()) return;
    // Nothing journaled is left: a torn tail goes too.
    this.journal!.clear();
  }

  /** Inside the write lock: the last link is read from the file, not remembered. */
  private writeGroup(group: Pending[]): [ChainRow[][], ChainHead] {
    const last = this.db.last() ?? { seq: 0, hash: '' };
    const resume = this.resumeAfter && this.resumeAfter.seq > last.seq ? this.resumeAfter : last;
    let { seq, hash: prev } = resume;
    const stored = group.map((p) =>
      p.events.map(({ parts, recorded }) => {
        seq++;
        const id = eventId(this.opts.workstationId, seq);
        const json = joinCanonical(parts, 'id', id);
        const hash = hashJson(prev, json);
        const row: ChainRow = { seq, id, recorded, prev, hash, json };
        prev = hash;
        return row;
      }),
    );
    this.db.insertGroup(stored.flat());
    return [stored, { seq, hash: prev }];
  }

  /**
   * Before the first append: a store that ends before the keychain head lost its newest
   * events (a power loss, or removal). The chain then continues after the head, so the
   * gap stays visible to verify instead of being papered over by new events and a new
   * head. A different hash at the head's seq means stored events were replaced: refuse.
   */
  private checkHead(head: ChainHead | null): void {
    if (!head) return;
    const row = this.db.at(head.seq);
    if (!row) {
      const last = this.db.last();
      if (!last || last.seq < head.seq) this.resumeAfter = head;
      return;
    }
    if (row.hash !== head.hash) {
      throw new AuditChainError(
        `event ${head.seq} of the audit log disagrees with the chain head kept in the keychain; run "flint audit verify"`,
      );
    }
  }

  private *rows(q: Omit<RangeQuery, 'limit'>): Generator<ChainRow> {
    let afterSeq = q.afterSeq ?? 0;
    for (;;) {
      const page = this.db.page(pageQuery({ ...q, afterSeq, limit: PAGE }));
      yield* page;
      if (page.length < PAGE) return;
      afterSeq = page[page.length - 1]!.seq;
    }
  }
}

function prepare(event: AuditEvent): Prepared {
  if (event?.resourceType !== 'AuditEvent') throw new TypeError('only AuditEvents can be appended to the audit log');
  const recorded = Date.parse(event.recorded);
  if (!Number.isFinite(recorded)) throw new RangeError('an AuditEvent needs a valid recorded instant');
  // Canonical JSON now: what is hashed is what was handed in; later changes by the caller do not leak in.
  return { parts: canonicalParts(event as unknown as Record<string, unknown>, 'id'), recorded };
}

function pageQuery(q: RangeQuery & { afterSeq?: number }) {
  const p: { afterSeq: number; limit: number; since?: number; until?: number } = { afterSeq: q.afterSeq ?? 0, limit: q.limit };
  if (q.since) p.since = q.since.getTime();
  if (q.until) p.until = q.until.getTime();
  return p;
}

function toStored(row: ChainRow): StoredEvent {
  return { id: row.id, seq: row.seq, prev: row.prev, hash: row.hash, event: JSON.parse(row.json) as AuditEvent };
}
