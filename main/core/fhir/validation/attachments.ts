/**
 * Attachment content checks (issue 12): wherever an Attachment sits (DocumentReference
 * content, Patient.photo, Media.content, a valueAttachment in an extension, a contained
 * resource, a Bundle entry, ...) and carries inline `data`, that data is valid base64 (R4
 * allows whitespace inside), `size` if given is the number of decoded bytes, and `hash` if
 * given is the base64 SHA-1 of those bytes (R4 Attachment.hash: "The calculated hash of the
 * data using SHA-1. Represented using base64"). Without data (a url only) there is nothing
 * to compare. att-1 (data implies contentType) is an invariant, not checked here.
 *
 * Where Attachments can be is read from the R4 definitions, compiled once per type and
 * backbone element: each element's JSON names (choices expanded: valueAttachment) mapped
 * to what they hold. Extensions can carry an Attachment on any element, so every object in
 * the resource is visited, but only objects: primitives are skipped by one typeof test.
 */
import { createHash } from 'node:crypto';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { sharedCatalog, type DefinitionCatalog } from '../definition-catalog';

type Json = Record<string, unknown>;

/** What a JSON member holds: an Attachment, an instance of another compiled plan, or any resource. */
type Step = { kind: 'attachment' } | { kind: 'plan'; key: string; plan?: Plan | null } | { kind: 'resource' };
type Plan = Map<string, Step>;

const SHA1_BYTES = 20;
const HEX_SHA1 = /^[0-9a-fA-F]{40}$/;

export class AttachmentChecker {
  private readonly plans = new Map<string, Plan | undefined>();
  /** What `_name` members hold: an Element (id, extensions). */
  private readonly element: Step = { kind: 'plan', key: 'Element' };

  constructor(private readonly catalog: DefinitionCatalog = sharedCatalog()) {}

  check(resource: unknown): OperationOutcomeIssue[] {
    const out: OperationOutcomeIssue[] = [];
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    if (typeof type === 'string') this.walk(resource as Json, this.planOf(type), [type], out);
    return out;
  }

  /** The plan of element `path` (a type name, or a backbone element such as `Patient.contact`). */
  private planOf(path: string): Plan | undefined {
    if (this.plans.has(path)) return this.plans.get(path);
    const dot = path.indexOf('.');
    const sd = this.catalog.structureDefinition(dot < 0 ? path : path.slice(0, dot));
    if (!sd) return undefined; // not cached: a client's made-up type names must not grow the map
    const plan: Plan = new Map();
    const prefix = `${path}.`;
    const elements = sd.snapshot?.element ?? [];
    for (const e of elements) {
      const p = e.path ?? '';
      if (!p.startsWith(prefix) || p.indexOf('.', prefix.length) >= 0) continue;
      const name = p.slice(prefix.length);
      if (e.contentReference) {
        plan.set(name, { kind: 'plan', key: e.contentReference.replace(/^#/, '') });
        continue;
      }
      const types = e.type ?? [];
      const choice = name.endsWith('[x]');
      for (const t of types) {
        const code = t.code ?? '';
        const key = choice ? name.slice(0, -3) + code.charAt(0).toUpperCase() + code.slice(1) : name;
        const step = stepFor(code, p);
        if (step) plan.set(key, step);
      }
    }
    this.plans.set(path, plan);
    return plan;
  }

  /**
   * `obj` is an instance of `plan`; `at` holds its location as names and indexes,
   * joined into a path only when there is something to report (most objects have nothing).
   */
  private walk(obj: Json, plan: Plan | undefined, at: Array<string | number>, out: OperationOutcomeIssue[]): void {
    if (!plan) return;
    for (const key in obj) {
      const value = obj[key];
      if (typeof value !== 'object' || value === null) continue;
      // `_given`: a primitive's id and extensions, which may hold Attachments too.
      const step: Step | undefined = key.charCodeAt(0) === 95 ? this.element : plan.get(key);
      if (!step) continue;
      at.push(key);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (typeof v !== 'object' || v === null) continue;
          at.push(i);
          this.visit(v as Json, step, at, out);
          at.pop();
        }
      } else this.visit(value as Json, step, at, out);
      at.pop();
    }
  }

  private visit(v: Json, step: Step, at: Array<string | number>, out: OperationOutcomeIssue[]): void {
    if (step.kind === 'attachment') {
      if (typeof v.data === 'string') checkAttachment(v, pathOf(at), out);
      this.walk(v, this.planOf('Attachment'), at, out); // its extensions
    } else if (step.kind === 'plan') {
      // The step keeps its plan once compiled (null: none), saving a lookup per object.
      if (step.plan === undefined) step.plan = this.planOf(step.key) ?? null;
      this.walk(v, step.plan ?? undefined, at, out);
    } else if (typeof v.resourceType === 'string') this.walk(v, this.planOf(v.resourceType), at, out);
  }
}

/** `['Patient', 'photo', 0]` -> `Patient.photo[0]`. */
function pathOf(at: ReadonlyArray<string | number>): string {
  let s = '';
  for (const part of at) s += typeof part === 'number' ? `[${part}]` : s === '' ? part : `.${part}`;
  return s;
}

function stepFor(code: string, elementPath: string): Step | undefined {
  if (code === 'Attachment') return { kind: 'attachment' };
  if (code === 'Resource') return { kind: 'resource' };
  if (code === 'BackboneElement' || code === 'Element') return { kind: 'plan', key: elementPath };
  // Other complex data types (HumanName, Extension, ...); primitives start lower-case.
  if (code.charCodeAt(0) >= 65 && code.charCodeAt(0) <= 90) return { kind: 'plan', key: code };
  return undefined;
}

/**
 * The number of bytes `text` decodes to, or -1 when it is not base64 (whitespace allowed
 * anywhere; `=` padding only at the end, making whole groups of four).
 */
export function base64Length(text: string): number {
  let chars = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) continue;
    if (c === 61) {
      padding++;
      continue;
    }
    const isAlphabet = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!isAlphabet || padding > 0) return -1;
    chars++;
  }
  if (padding > 2 || (chars + padding) % 4 !== 0) return -1;
  return ((chars + padding) / 4) * 3 - padding;
}

function checkAttachment(a: Json, at: string, out: OperationOutcomeIssue[]): void {
  const data = a.data;
  if (typeof data !== 'string') return;
  const refuse = (element: string, diagnostics: string) => out.push({ severity: 'error', code: 'value', diagnostics, expression: [`${at}.${element}`] });
  const bytes = base64Length(data);
  if (bytes < 0) {
    refuse('data', `${at}.data is not valid base64 (the characters A-Z a-z 0-9 + / in groups of four, = padding only at the end)`);
    return;
  }
  if (typeof a.size === 'number' && a.size !== bytes) {
    refuse('size', `${at}.size is not the number of bytes of the decoded data (Attachment.size counts the bytes before base64 encoding)`);
  }
  if (typeof a.hash === 'string') {
    const hash = a.hash;
    if (HEX_SHA1.test(hash.trim()) && base64Length(hash) !== SHA1_BYTES) {
      // The right digest written in hexadecimal (as one official R4 example has it) is a
      // warning: the data is intact and the hash says so, in the wrong encoding.
      const digest = createHash('sha1').update(Buffer.from(data, 'base64')).digest('hex');
      const warn = (diagnostics: string) => out.push({ severity: 'warning', code: 'value', diagnostics, expression: [`${at}.hash`] });
      // Hexadecimal is a known misreading of R4 (one official example has it, with a digest
      // of other bytes): a warning, so the data is kept; base64 that is not a SHA-1 is an error.
      if (digest === hash.trim().toLowerCase()) warn(`${at}.hash is the data's SHA-1 in hexadecimal; R4 wants it base64-encoded`);
      else warn(`${at}.hash is hexadecimal and not the SHA-1 of the decoded data; R4 wants the data's SHA-1, base64-encoded`);
    } else if (base64Length(hash) !== SHA1_BYTES) {
      refuse('hash', `${at}.hash is not a SHA-1 digest in base64 (20 bytes, base64-encoded)`);
    } else {
      const digest = createHash('sha1').update(Buffer.from(data, 'base64')).digest();
      if (!digest.equals(Buffer.from(hash, 'base64'))) refuse('hash', `${at}.hash is not the SHA-1 of the decoded data (Attachment.hash is the base64 SHA-1 of the data's bytes)`);
    }
  }
}

let shared: AttachmentChecker | undefined;

/** The Attachment issues of a resource, with the process's shared catalog (compiled once). */
export function attachmentIssues(resource: unknown): OperationOutcomeIssue[] {
  shared ??= new AttachmentChecker();
  return shared.check(resource);
}
