/**
 * The hash chain of one workstation's audit log (docs/audit.md): every event's hash covers
 * the previous event's hash and the event's canonical JSON, so changing, removing or
 * reordering a stored event breaks a link that verifyChain() finds. Pure functions: the
 * central server can verify a workstation's chain with this file alone.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';

/** The newest link: kept in the keychain so that dropping the newest events shows. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** One stored event as the database holds it (json is canonicalJson(event)). */
export interface ChainRow {
  seq: number;
  id: string;
  /** Epoch ms of event.recorded (the column export filters on). */
  recorded: number;
  prev: string;
  hash: string;
  json: string;
}

export type ChainVerdict = { ok: true; events: number } | { ok: false; seq: number; problem: string };

/**
 * JSON with object keys sorted recursively and no whitespace, so the same content always
 * hashes the same whatever order its keys were built in. Undefined members are dropped
 * (and become null in arrays), as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function')
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** sha256 hex of `prev + '\n' + canonicalJson(event)`; prev is '' for the first event. */
export function hashEvent(prev: string, event: AuditEvent): string {
  return hashJson(prev, canonicalJson(event));
}

/** hashEvent over JSON already in canonical form (what the database stores). */
export function hashJson(prev: string, json: string): string {
  return createHash('sha256').update(`${prev}\n${json}`, 'utf8').digest('hex');
}

/** The id of a workstation's seq-th event: unique across workstations in one central database. */
export const eventId = (workstationId: string, seq: number): string => `${workstationId}-${seq}`;

/**
 * Walks rows in seq order (seq 1 first) and reports the first problem: a missing seq, an
 * id that is not `<workstationId>-<seq>`, a prev that is not the previous hash, content
 * that does not hash to the stored hash, a recorded column that does not match the
 * content, or disagreement with the keychain head: a different hash at the head's seq, or
 * a chain that ends before it (the newest events are gone). A chain longer than the head
 * is fine: the head is saved after the commit, in the background, so it may lag.
 * Problems name seqs and ids only, never content.
 */
export function verifyChain(rows: Iterable<ChainRow>, workstationId: string, expectedHead?: ChainHead | null): ChainVerdict {
  const head = expectedHead ?? undefined;
  let expect = 1;
  let prev = '';
  for (const row of rows) {
    if (row.seq !== expect) {
      if (row.seq < expect) return { ok: false, seq: row.seq, problem: `event ${row.seq} is out of order` };
      return { ok: false, seq: expect, problem: missing(expect, row.seq - 1, `the next stored event is ${row.seq}`) };
    }
    const problem = checkRow(row, workstationId, prev);
    if (problem) return { ok: false, seq: row.seq, problem };
    if (head && row.seq === head.seq && row.hash !== head.hash) {
      return { ok: false, seq: row.seq, problem: 'its hash disagrees with the chain head kept in the keychain (the event was replaced)' };
    }
    prev = row.hash;
    expect++;
  }
  if (head && expect <= head.seq) {
    return { ok: false, seq: expect, problem: missing(expect, head.seq, `the chain head kept in the keychain is at ${head.seq}`) };
  }
  return { ok: true, events: expect - 1 };
}

function checkRow(row: ChainRow, workstationId: string, prev: string): string | undefined {
  const id = eventId(workstationId, row.seq);
  if (row.id !== id) return `its id is not ${id}`;
  if (row.prev !== prev) return 'its link to the previous event is broken (prev is not the previous hash)';
  if (hashJson(row.prev, row.json) !== row.hash) return 'its content does not match its hash (changed after it was written)';
  let event: Partial<AuditEvent>;
  try {
    event = JSON.parse(row.json) as Partial<AuditEvent>;
  } catch {
    return 'its content is not JSON';
  }
  if (event.id !== id) return 'its content carries another id';
  if (Date.parse(event.recorded ?? '') !== row.recorded) return 'its recorded time does not match its content';
  return undefined;
}

const missing = (from: number, to: number, why: string): string =>
  `${from === to ? `event ${from} is` : `events ${from} to ${to} are`} missing (${why})`;
