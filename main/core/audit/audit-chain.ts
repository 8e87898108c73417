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

/** The stored chain disagrees with the head kept in the keychain, or that head is unreadable. */
export class AuditChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditChainError';
  }
}

export type ChainVerdict = { ok: true; events: number } | { ok: false; seq: number; problem: string };

/**
 * JSON with object keys sorted recursively and no whitespace, so the same content always
 * hashes the same whatever order its keys were built in. Undefined members are dropped
 * (and become null in arrays), as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  // Loops and string building, not filter/map/join: this runs for every event recorded.
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (value === null) return 'null';
  // Frozen values whose members are primitives or frozen themselves cannot change: their
  // text is kept (the shared codings and agents of audit-event.ts).
  const frozen = Object.isFrozen(value);
  if (frozen) {
    const known = FROZEN.get(value);
    if (known !== undefined) return known;
  }
  let out: string;
  let keep = frozen;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (i > 0) out += ',';
      out += v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v);
      if (keep && v !== null && typeof v === 'object' && !FROZEN.has(v)) keep = false;
    }
    out += ']';
  } else {
    const obj = value as Record<string, unknown>;
    out = '{';
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v === undefined || typeof v === 'function') continue;
      if (out.length > 1) out += ',';
      out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
      if (keep && v !== null && typeof v === 'object' && !FROZEN.has(v)) keep = false;
    }
    out += '}';
  }
  if (keep) FROZEN.set(value, out);
  return out;
}

const FROZEN = new WeakMap<object, string>();

/**
 * canonicalJson of an object without its `slot` member, in two halves around the place
 * where that member sorts: the id of an event is known only when it is chained, and
 * joinCanonical() then adds it with a concatenation instead of a new serialisation.
 */
export interface CanonicalParts {
  /** The members that sort before the slot, joined by commas (no braces). */
  before: string;
  /** The members that sort after it. */
  after: string;
}

export function canonicalParts(obj: Record<string, unknown>, slot: string): CanonicalParts {
  const before: string[] = [];
  const after: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (k === slot || v === undefined || typeof v === 'function') continue;
    (k < slot ? before : after).push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return { before: before.join(','), after: after.join(',') };
}

/** The canonical JSON of the parts with `slot: value` in its place (or without it: value undefined). */
export function joinCanonical(parts: CanonicalParts, slot: string, value?: unknown): string {
  const members = [parts.before, value === undefined ? '' : `${JSON.stringify(slot)}:${canonicalJson(value)}`, parts.after];
  return `{${members.filter((m) => m !== '').join(',')}}`;
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
