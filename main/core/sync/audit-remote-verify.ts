/**
 * Verifies the central audit database (audit-push.ts writes it): every workstation's
 * chain, read back from the server, checked with the workstation's own hashing
 * (audit/audit-chain.ts). Unlike `AuditLog.verify`, which stops at the first problem,
 * this lists every problem of every workstation: an auditor of a central copy wants the
 * whole damage, and the workstations' own logs to compare against.
 *
 * Per workstation:
 * - seqs are contiguous from 1 (each gap is reported as the missing seqs), up to the
 *   workstation's push checkpoint (`_local/flint-audit-push-<ws>`) when the server has
 *   one: the newest events cannot vanish unnoticed either;
 * - each document is `<ws>-<seq>` of its own fields, and its event carries that id;
 * - each hash recomputes from `prev` + the event (hashEvent, as the workstation chained it);
 * - each `prev` is the previous event's hash ('' for seq 1);
 * - each document is still its first revision, the one its hash names (audit-push.ts):
 *   a later revision, or a revision the hash does not name, was written on the server,
 *   and conflicting revisions are reported too.
 * Memory: a few hundred bytes per event (links only; contents are hashed as they arrive).
 * Problems name workstations, seqs and revisions, never content.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { eventId, hashEvent } from '../audit/audit-chain';
import { AUDIT_DESIGN_ID, AUDIT_VALIDATE_DOC_UPDATE } from './audit-design';
import { auditCheckpointId, auditEventRev } from './audit-push';
import { couchJson, remoteFetch, RemoteError, type RemoteEndpoint } from './remote';

export interface WorkstationAuditReport {
  workstation: string;
  /** Event documents found for it. */
  events: number;
  /** Its push checkpoint on the server, if any. */
  checkpoint?: number;
  /** Every problem found, in seq order; empty: the chain is intact. */
  problems: string[];
}

export interface RemoteAuditReport {
  /** One per workstation found, ordered by workstation id. */
  workstations: WorkstationAuditReport[];
  /** Documents that are not audit events at all (their ids: Flint's own format, no content). */
  strays: string[];
  /** Whether `_design/flint-audit` is there and is Flint's (an append-only database). */
  design: 'installed' | 'missing' | 'different';
}

export interface RemoteVerifyOptions {
  /** Rows per `_all_docs` request (default 1000). */
  pageSize?: number;
}

interface Link {
  prev: string;
  hash: string;
}

interface Chain {
  links: Map<number, Link>;
  problems: { seq: number; text: string }[];
}

interface Row {
  id?: string;
  key?: string;
  error?: string;
  value?: { rev: string; deleted?: boolean };
  doc?: Record<string, unknown> | null;
}

const EVENT_ID = /^([0-9a-z]+)-([1-9][0-9]*)$/;

export async function verifyRemoteAudit(endpoint: RemoteEndpoint, auditUrl: string, opts: RemoteVerifyOptions = {}): Promise<RemoteAuditReport> {
  const base = auditUrl.replace(/\/+$/, '');
  const pageSize = opts.pageSize ?? 1000;
  const fetchFn = remoteFetch(endpoint);
  const get = <T>(path: string) => couchJson<T>(endpoint, 'GET', `${base}/${path}`, undefined, fetchFn);
  const chains = new Map<string, Chain>();
  const strays: string[] = [];
  let design: RemoteAuditReport['design'] = 'missing';

  const chainOf = (ws: string): Chain => {
    let chain = chains.get(ws);
    if (!chain) chains.set(ws, (chain = { links: new Map(), problems: [] }));
    return chain;
  };

  const take = (doc: Record<string, unknown>): void => {
    const id = String(doc['_id']);
    if (id.startsWith('_design/')) {
      if (id === AUDIT_DESIGN_ID) design = doc['validate_doc_update'] === AUDIT_VALIDATE_DOC_UPDATE ? 'installed' : 'different';
      return;
    }
    const m = EVENT_ID.exec(id);
    if (!m) {
      strays.push(id);
      return;
    }
    const ws = m[1]!;
    const seq = Number(m[2]);
    const chain = chainOf(ws);
    const problem = (text: string) => chain.problems.push({ seq, text });
    const { workstation, prev, hash, event, _rev: rev, _conflicts: conflicts } = doc as {
      workstation?: unknown; prev?: unknown; hash?: unknown; event?: unknown; _rev?: unknown; _conflicts?: unknown; // prettier-ignore
    };
    if (chain.links.has(seq)) return; // seen on an earlier page (a second look)
    if (workstation !== ws || doc['seq'] !== seq) problem(`event ${seq}: its workstation and seq fields do not match its id ${id}`);
    if (typeof prev !== 'string' || typeof hash !== 'string') {
      problem(`event ${seq}: it has no chain links (prev, hash)`);
      chain.links.set(seq, { prev: '?', hash: '?' });
      return;
    }
    chain.links.set(seq, { prev, hash });
    if (typeof rev === 'string' && !rev.startsWith('1-')) {
      problem(`event ${seq} was changed on the server (revision ${rev.split('-')[0]})`);
    } else if (rev !== auditEventRev(hash)) {
      problem(`event ${seq}: its revision is not the one its hash names (rewritten on the server)`);
    }
    if (Array.isArray(conflicts) && conflicts.length > 0) problem(`event ${seq} has ${conflicts.length} conflicting revision(s) on the server`);
    if (!event || typeof event !== 'object' || (event as AuditEvent).resourceType !== 'AuditEvent') {
      problem(`event ${seq}: it holds no AuditEvent`);
      return;
    }
    if ((event as AuditEvent).id !== eventId(ws, seq)) problem(`event ${seq}: its content carries another id`);
    let recomputed: string | undefined;
    try {
      recomputed = hashEvent(prev, event as AuditEvent);
    } catch {
      recomputed = undefined;
    }
    if (recomputed !== hash) problem(`event ${seq}: its content does not match its hash (changed after it was written)`);
  };

  // Every document, a page at a time, in id order.
  let startkey: string | undefined;
  for (;;) {
    const query = `_all_docs?include_docs=true&conflicts=true&limit=${pageSize}${startkey === undefined ? '' : `&skip=1&startkey=${encodeURIComponent(JSON.stringify(startkey))}`}`;
    const page = await get<{ rows: Row[] }>(query);
    for (const row of page.rows) if (row.doc) take(row.doc);
    if (page.rows.length < pageSize) break;
    startkey = page.rows[page.rows.length - 1]!.id;
  }

  // The checkpoints (read after the documents: a checkpoint is written after its batch,
  // so every event up to it was on the server before it was read), then a second look at
  // every seq still missing: ids sort as text, so a push running beside the walk can land
  // behind the page cursor.
  const checkpoints = new Map<string, number>();
  for (const ws of chains.keys()) {
    try {
      const cp = await get<{ seq?: unknown }>(auditCheckpointId(ws));
      if (typeof cp.seq === 'number' && Number.isSafeInteger(cp.seq) && cp.seq > 0) checkpoints.set(ws, cp.seq);
    } catch (e) {
      if (!(e instanceof RemoteError && e.status === 404)) throw e;
    }
  }
  for (const [ws, chain] of chains) {
    const missingIds = missingSeqs(chain, checkpoints.get(ws)).map((seq) => eventId(ws, seq));
    for (let i = 0; i < missingIds.length; i += pageSize) {
      const keys = missingIds.slice(i, i + pageSize);
      const page = await couchJson<{ rows: Row[] }>(endpoint, 'POST', `${base}/_all_docs?include_docs=true&conflicts=true`, { keys }, fetchFn);
      for (const row of page.rows) if (row.doc && !row.value?.deleted) take(row.doc);
    }
  }

  const workstations = [...chains.keys()].sort().map((ws) => report(ws, chains.get(ws)!, checkpoints.get(ws)));
  return { workstations, strays: strays.sort(), design };
}

/** The seqs from 1 to the newest (or the checkpoint, if higher) that no document holds. */
function missingSeqs(chain: Chain, checkpoint: number | undefined): number[] {
  let top = checkpoint ?? 0;
  for (const seq of chain.links.keys()) if (seq > top) top = seq;
  const missing: number[] = [];
  for (let seq = 1; seq <= top; seq++) if (!chain.links.has(seq)) missing.push(seq);
  return missing;
}

function report(workstation: string, chain: Chain, checkpoint: number | undefined): WorkstationAuditReport {
  const problems = [...chain.problems];
  const seqs = [...chain.links.keys()].sort((a, b) => a - b);
  let expect = 1;
  for (const seq of seqs) {
    if (seq > expect) problems.push({ seq: expect, text: missing(expect, seq - 1) });
    const link = chain.links.get(seq)!;
    const before = seq === 1 ? '' : chain.links.get(seq - 1)?.hash;
    // After a gap the predecessor is unknown: the gap is the problem there.
    if (before !== undefined && link.prev !== before) {
      problems.push({ seq, text: `event ${seq}: its link to the previous event is broken (prev is not the previous hash)` });
    }
    expect = seq + 1;
  }
  if (checkpoint !== undefined && checkpoint >= expect) {
    problems.push({ seq: expect, text: `${missing(expect, checkpoint)} (the workstation's push checkpoint is at ${checkpoint})` });
  }
  // Stable: the order found within one seq (gap, then the event's own problems) is kept.
  problems.sort((a, b) => a.seq - b.seq);
  const out: WorkstationAuditReport = { workstation, events: seqs.length, problems: problems.map((p) => p.text) };
  if (checkpoint !== undefined) out.checkpoint = checkpoint;
  return out;
}

const missing = (from: number, to: number): string => (from === to ? `event ${from} is missing` : `events ${from} to ${to} are missing`);
