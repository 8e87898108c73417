/**
 * The audit log: AuditEvents appended to audit.db in one hash chain per workstation
 * (docs/audit.md). The only writer of audit events; nothing else opens audit.db for writing.
 *
 * Group commit: append() queues its events and the queue is written on the next turn of
 * the event loop, one INSERT per event and one COMMIT per group, so the requests handled
 * in one turn share a transaction. Each caller is answered when its own events are
 * committed, or rejected when the commit failed: the caller then fails closed (returns
 * no data, writes nothing).
 *
 * The chain head {seq, hash} goes to the keychain after each group, in the background:
 * only the newest head, at most one keychain call in flight, never on a request's path,
 * and a last one on close(). It lets verify see that the newest events were removed.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { SecretStore } from '../secrets/secret-store';
import type { DataDir } from '../store/data-dir';
import type { StoredEvent } from './types';
import { canonicalJson, eventId, hashJson, verifyChain, type ChainHead, type ChainRow, type ChainVerdict } from './audit-chain';
import { openAuditDb, type AuditDb } from './audit-db';

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

/** The stored chain disagrees with the head kept in the keychain, or that head is unreadable. */
export class AuditChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditChainError';
  }
}

/** The keychain head is saved at most this often (and on close). */
export const HEAD_INTERVAL_MS = 1000;

export const auditHeadAccount = (workstationId: string): string => `${workstationId}/audit-head`;

/** Opens a data dir's audit log with the usual file, key and keychain account. */
export function openAuditLogOf(
  dataDir: Pick<DataDir, 'storeFile' | 'purposeKey' | 'workstationId'>,
  secrets: SecretStore,
  opts: { readOnly?: boolean } = {},
): Promise<AuditLog> {
  return AuditLog.open({
    file: dataDir.storeFile('audit'),
    key: dataDir.purposeKey('audit'),
    workstationId: dataDir.workstationId,
    secrets,
    headAccount: auditHeadAccount(dataDir.workstationId),
    ...opts,
  });
}

interface Prepared {
  event: AuditEvent;
  recorded: number;
}

interface Pending {
  events: Prepared[];
  resolve(stored: StoredEvent[]): void;
  reject(err: unknown): void;
}

/** Rows per SELECT when walking the whole log: bounded memory for a million events. */
const PAGE = 1000;

export class AuditLog {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  /** Set when the store ends before the keychain head: appends continue after the head. */
  private resumeAfter: ChainHead | undefined;
  private wantedHead: ChainHead | undefined;
  private headInFlight: Promise<void> | undefined;
  private commits = 0;
  private lastHeadSave = 0;
  private appended = 0;

  private constructor(
    private readonly db: AuditDb,
    private readonly opts: AuditLogOptions,
  ) {}

  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const db = openAuditDb(opts.file, opts.key, opts.workstationId);
    const log = new AuditLog(db, opts);
    if (opts.readOnly) return log;
    try {
      log.checkHead(await log.readHead());
    } catch (err) {
      db.close();
      throw err;
    }
    return log;
  }

  /**
   * Appends events (ids are assigned here: `<workstationId>-<seq>`) and resolves with them
   * as stored once they are committed. Rejects if they could not be: fail closed.
   */
  append(events: AuditEvent[]): Promise<StoredEvent[]> {
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
      this.queue.push({ events: prepared, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // The next turn, not a microtask: the other requests of this turn join the group.
        setImmediate(() => this.commitQueued());
      }
    });
  }

  get(id: string): StoredEvent | undefined {
    const row = this.db.byId(id);
    return row && toStored(row);
  }

  /** One page of events in seq order, filtered on event.recorded (since inclusive, until exclusive). */
  range(q: RangeQuery): StoredEvent[] {
    return this.db.page(pageQuery(q)).map(toStored);
  }

  /** Every event of a range in seq order, read PAGE rows at a time. */
  *scan(q: Omit<RangeQuery, 'limit'> = {}): Generator<StoredEvent> {
    for (const row of this.rows(q)) yield toStored(row);
  }

  count(): number {
    return this.db.count();
  }

  /** Commits and events written by this instance (tests see the grouping here). */
  stats(): { commits: number; events: number } {
    return { commits: this.commits, events: this.appended };
  }

  /** Walks the whole chain against the keychain head; reports the first broken or missing link. */
  async verify(): Promise<VerifyResult> {
    // The head first: it is saved after its commit, so the rows read next are never older.
    const head = await this.readHead();
    return verifyChain(this.rows({}), this.opts.workstationId, head);
  }

  /** Commits what is queued, saves the newest head, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) this.commitQueued(); // its setImmediate then finds an empty queue
    try {
      await this.headInFlight;
      if (this.wantedHead) await this.saveHeadNow(); // a background save had failed
    } finally {
      this.db.close();
    }
  }

  private commitQueued(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    let stored: StoredEvent[][];
    let head: ChainHead;
    try {
      [stored, head] = this.db.atomically(() => this.writeGroup(group));
    } catch (err) {
      const failure = new AuditWriteError((err as { code?: string }).code ?? 'SQLITE_ERROR', { cause: err });
      for (const p of group) p.reject(failure);
      return;
    }
    this.commits++;
    group.forEach((p, i) => {
      this.appended += stored[i]!.length;
      p.resolve(stored[i]!);
    });
    this.wantedHead = head;
    this.headInFlight ??= this.pumpHead();
  }

  /** Inside the write lock: the last link is read from the file, not remembered. */
  private writeGroup(group: Pending[]): [StoredEvent[][], ChainHead] {
    const last = this.db.last() ?? { seq: 0, hash: '' };
    const resume = this.resumeAfter && this.resumeAfter.seq > last.seq ? this.resumeAfter : last;
    let { seq, hash: prev } = resume;
    const stored = group.map((p) =>
      p.events.map(({ event, recorded }) => {
        seq++;
        const id = eventId(this.opts.workstationId, seq);
        const withId: AuditEvent = { ...event, id };
        const json = canonicalJson(withId);
        const hash = hashJson(prev, json);
        this.db.insert({ seq, id, recorded, prev, hash, json });
        const s: StoredEvent = { id, seq, prev, hash, event: withId };
        prev = hash;
        return s;
      }),
    );
    return [stored, { seq, hash: prev }];
  }

  /** Background: saves the newest wanted head until none is left; one call at a time. */
  private async pumpHead(): Promise<void> {
    try {
      while (this.wantedHead) {
        // At most one keychain write per HEAD_INTERVAL_MS: each is a D-Bus round trip to the
        // Secret Service, which per request would cost more than the request. Events of
        // the last interval are still chained; only their truncation could go unnoticed.
        const wait = this.lastHeadSave + HEAD_INTERVAL_MS - Date.now();
        if (wait > 0 && !this.closed) await new Promise((r) => setTimeout(r, wait).unref());
        const head = this.wantedHead;
        this.wantedHead = undefined;
        if (!head) break;
        try {
          await this.opts.secrets.set(this.opts.headAccount, JSON.stringify(head));
          this.lastHeadSave = Date.now();
        } catch {
          // Retried after the next group and on close(); the events themselves are committed.
          this.wantedHead ??= head;
          break;
        }
      }
    } finally {
      this.headInFlight = undefined;
    }
  }

  private async saveHeadNow(): Promise<void> {
    const head = this.wantedHead!;
    await this.opts.secrets.set(this.opts.headAccount, JSON.stringify(head));
    this.wantedHead = undefined;
  }

  private async readHead(): Promise<ChainHead | null> {
    const value = await this.opts.secrets.get(this.opts.headAccount);
    if (value === null) return null;
    let head: Partial<ChainHead>;
    try {
      head = JSON.parse(value) as Partial<ChainHead>;
    } catch {
      head = {};
    }
    if (!Number.isSafeInteger(head.seq) || (head.seq ?? 0) < 1 || typeof head.hash !== 'string' || !/^[0-9a-f]{64}$/.test(head.hash)) {
      throw new AuditChainError(`the keychain entry "${this.opts.headAccount}" is not an audit chain head`);
    }
    return { seq: head.seq!, hash: head.hash };
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
  // A plain JSON copy: what is hashed is what is stored, and later changes by the caller do not leak in.
  const copy = JSON.parse(JSON.stringify(event)) as AuditEvent;
  const recorded = Date.parse(copy.recorded);
  if (!Number.isFinite(recorded)) throw new RangeError('an AuditEvent needs a valid recorded instant');
  return { event: copy, recorded };
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
