/**
 * Bundle rules that the FHIRPath invariants of Bundle (bdl-1..bdl-12) cannot express, from
 * R4 bundle.html ("Resource URL & Uniqueness rules", the per-type sections), the
 * Bundle.entry.fullUrl definition and documents.html. They apply to a Bundle written as a
 * resource (PUT /Bundle/x, whatever its type) and to every Bundle inside its entries; the
 * transaction or batch POSTed to the base URL for processing is not judged here.
 *
 *  - fullUrl: an absolute URL or URN; `urn:uuid:` with a lower-case RFC 4122 UUID,
 *    `urn:oid:` with an OID; a RESTful URL (`[base]/Type/id`) names the entry's own type and
 *    id (an error in transactions, batches and documents, a warning elsewhere: see
 *    RESOLVED_BY_FULLURL); required for every entry with a resource except in transactions, batches and their
 *    responses (searchset and history: a warning, as results of operations may be unidentified).
 *  - uniqueness: no fullUrl twice with the same meta.versionId (bdl-7, worded per entry),
 *    and no resource (type, id, version) twice in a collection, document, message or searchset.
 *  - transaction/batch/history entries whose request is POST or PUT carry a resource.
 *  - documents: the resources the Composition's subject, encounter, author, attester.party,
 *    custodian, event.detail and section author/focus/entry refer to are in the Bundle, and the
 *    Bundle holds only what is reachable from the Composition (plus Provenance of it and a
 *    stylesheet): both SHALL, so errors. Messages: an unresolved MessageHeader.focus warns.
 *
 * Left to the invariants: bdl-1, 2, 3, 4, 5, 8, 9, 10, 11, 12. Diagnostics name the rule and
 * the path, never a value. Costs nothing for resources that are not Bundles.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { sharedCatalog } from '../definition-catalog';

type Json = Record<string, unknown>;
type Severity = 'error' | 'warning';

const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OID_URN = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** R4 references.html's RESTful URL, absolute form: base, type, id, optional version. */
const RESTFUL = /^(https?:\/\/(?:[A-Za-z0-9\-\\.:%$]*\/)+)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const HISTORY_SUFFIX = /\/_history\/[^/]*$/;

const FULLURL_OPTIONAL = new Set(['transaction', 'batch', 'transaction-response', 'batch-response']);
const FULLURL_WARN = new Set(['searchset', 'history']);
const UNIQUE_RESOURCES = new Set(['collection', 'document', 'message', 'searchset']);
const NEEDS_BODY = new Set(['transaction', 'batch', 'history']);

const resourceTypes = new Map<string, boolean>();
function isResourceType(name: string): boolean {
  let known = resourceTypes.get(name);
  if (known === undefined) {
    const sd = sharedCatalog().structureDefinition(name);
    known = !!sd && sd.kind === 'resource' && !sd.abstract;
    resourceTypes.set(name, known);
  }
  return known;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

export function bundleIssues(resource: unknown): OperationOutcomeIssue[] {
  if (!isObject(resource) || resource.resourceType !== 'Bundle') return [];
  const out: OperationOutcomeIssue[] = [];
  checkBundle(resource, 'Bundle', out);
  return out;
}

interface Entry {
  index: number;
  path: string;
  fullUrl: string | undefined;
  resource: Json | undefined;
}

function checkBundle(bundle: Json, path: string, out: OperationOutcomeIssue[]): void {
  const type = str(bundle.type) ?? '';
  const push = (severity: Severity, code: OperationOutcomeIssue['code'], diagnostics: string, at: string) =>
    out.push({ severity, code, diagnostics, expression: [at] });
  const entries: Entry[] = list(bundle.entry).map((e, index) => {
    const entry = isObject(e) ? e : {};
    return { index, path: `${path}.entry[${index}]`, fullUrl: str(entry.fullUrl), resource: isObject(entry.resource) ? entry.resource : undefined };
  });

  const seenUrls = new Map<string, number>();
  const seenIds = new Map<string, number>();
  list(bundle.entry).forEach((raw, i) => {
    const e = entries[i]!;
    const r = e.resource;
    const rType = str(r?.resourceType);
    const rId = str(r?.id);
    const version = str(isObject(r?.meta) ? (r!.meta as Json).versionId : undefined) ?? '';
    if (e.fullUrl !== undefined) checkFullUrl(e, rType, rId, push, RESOLVED_BY_FULLURL.has(type) ? 'error' : 'warning');
    else if (r && !FULLURL_OPTIONAL.has(type) && rType !== 'OperationOutcome') {
      const warn = FULLURL_WARN.has(type);
      push(warn ? 'warning' : 'error', 'required', `${e.path} has a resource but no fullUrl: every entry of a Bundle of this type needs one (R4 Bundle: "Resource URL & Uniqueness rules")`, e.path);
    }
    if (e.fullUrl !== undefined && type !== 'history') {
      const key = `${e.fullUrl}|${version}`;
      const first = seenUrls.get(key);
      if (first !== undefined) {
        push('error', 'duplicate', `${e.path}.fullUrl repeats the fullUrl of ${path}.entry[${first}] with the same meta.versionId (bdl-7: a fullUrl appears once per version)`, `${e.path}.fullUrl`);
      } else seenUrls.set(key, i);
    }
    if (rType && rId && UNIQUE_RESOURCES.has(type)) {
      const base = e.fullUrl ? RESTFUL.exec(e.fullUrl)?.[1] ?? '' : '';
      const key = `${base}|${rType}/${rId}|${version}`;
      const first = seenIds.get(key);
      if (first === undefined) seenIds.set(key, i);
      else if (entries[first]!.fullUrl !== e.fullUrl) {
        push('error', 'duplicate', `${e.path}.resource is the same resource and version as ${path}.entry[${first}].resource: a given version of a resource SHALL appear only once in a Bundle`, `${e.path}.resource.id`);
      }
    }
    const method = isObject(raw) && isObject(raw.request) ? str(raw.request.method) : undefined;
    if (!r && NEEDS_BODY.has(type) && (method === 'POST' || method === 'PUT')) {
      push('error', 'required', `${e.path} has a ${method} request but no resource: such an entry SHALL contain the resource`, e.path);
    }
    if (r && rType === 'Bundle') checkBundle(r, `${e.path}.resource`, out);
  });

  if (type === 'document') checkDocument(bundle, entries, push);
  if (type === 'message') checkMessage(entries, push);
}

type Push = (severity: Severity, code: OperationOutcomeIssue['code'], diagnostics: string, at: string) => void;

/**
 * Bundle types whose references are resolved through fullUrl when Flint acts on them
 * (processing a transaction or batch, reading a document): there a fullUrl disagreeing
 * with its resource is an error. In the others (message, collection, searchset, history),
 * which Flint only keeps, it is a warning: three official R4 examples (two messages and a
 * collection) have one, and issue 12 keeps every official example but two storable.
 */
const RESOLVED_BY_FULLURL = new Set(['transaction', 'batch', 'document']);

function checkFullUrl(e: Entry, rType: string | undefined, rId: string | undefined, push: Push, disagreement: Severity): void {
  const url = e.fullUrl!;
  const at = `${e.path}.fullUrl`;
  if (!ABSOLUTE.test(url)) {
    push('error', 'value', `${at} is not an absolute URL or URN (Bundle.entry.fullUrl is the absolute identity of the resource)`, at);
    return;
  }
  const lower = url.slice(0, 9).toLowerCase();
  if (lower === 'urn:uuid:') {
    if (!UUID_URN.test(url)) push('error', 'value', `${at} is not a valid urn:uuid: (an RFC 4122 UUID in lower-case hex, 8-4-4-4-12)`, at);
    return;
  }
  if (lower.startsWith('urn:oid:')) {
    if (!OID_URN.test(url)) push('error', 'value', `${at} is not a valid urn:oid: (an OID: digits separated by dots, no leading zeros)`, at);
    return;
  }
  const m = RESTFUL.exec(url);
  if (!m || !rType || !isResourceType(m[2]!)) return;
  if (m[2] !== rType) {
    push(disagreement, 'invalid', `${at} is a RESTful URL of another resource type than the entry's ${rType} (the fullUrl SHALL NOT disagree with the resource)`, at);
  } else if (rId !== undefined && m[3] !== rId) {
    push(disagreement, 'invalid', `${at} is a RESTful URL whose id is not the entry's resource id (the fullUrl SHALL NOT disagree with Resource.id)`, at);
  }
}

/** Resolves references as R4 bundle.html "Resolving references in Bundles" describes (leniently for relative ones). */
class Resolver {
  private readonly byUrl = new Map<string, number>();
  private readonly byTypeId = new Map<string, number>();

  constructor(entries: readonly Entry[]) {
    for (const e of entries) {
      if (e.fullUrl !== undefined && !this.byUrl.has(e.fullUrl)) this.byUrl.set(e.fullUrl, e.index);
      const t = str(e.resource?.resourceType);
      const id = str(e.resource?.id);
      if (t && id && !this.byTypeId.has(`${t}/${id}`)) this.byTypeId.set(`${t}/${id}`, e.index);
    }
  }

  /** The index of the entry `ref` (made from the entry whose fullUrl is `from`) points at, or undefined. */
  resolve(ref: string, from: string | undefined): number | undefined {
    const bare = ref.replace(HISTORY_SUFFIX, '');
    if (ABSOLUTE.test(bare)) return this.byUrl.get(bare);
    const rel = RELATIVE.exec(ref);
    if (!rel) return undefined;
    const root = from ? RESTFUL.exec(from)?.[1] : undefined;
    const key = `${rel[1]}/${rel[2]}`;
    return (root !== undefined ? this.byUrl.get(root + key) : undefined) ?? this.byTypeId.get(key);
  }
}

/** Every literal, non-local reference in `node`, not descending into Bundles (their entries are theirs). */
function referencesIn(node: unknown, out: string[]): string[] {
  if (Array.isArray(node)) for (const v of node) referencesIn(v, out);
  else if (isObject(node)) {
    if (node.resourceType === 'Bundle') return out;
    const ref = str(node.reference);
    if (ref !== undefined && !ref.startsWith('#')) out.push(ref);
    for (const k in node) {
      const v = node[k];
      if (typeof v === 'object' && v !== null) referencesIn(v, out);
    }
  }
  return out;
}

/** The Composition's references that documents.html requires inside the Bundle (the HL7 validator's list). */
function compositionReferences(c: Json, at: string): Array<[string, unknown]> {
  const refs: Array<[string, unknown]> = [];
  const add = (v: unknown, p: string) => (Array.isArray(v) ? v.forEach((x, i) => refs.push([`${p}[${i}]`, x])) : v !== undefined && refs.push([p, v]));
  add(c.subject, `${at}.subject`);
  add(c.encounter, `${at}.encounter`);
  add(c.author, `${at}.author`);
  add(c.custodian, `${at}.custodian`);
  list(c.attester).forEach((a, i) => isObject(a) && add(a.party, `${at}.attester[${i}].party`));
  list(c.event).forEach((ev, i) => isObject(ev) && add(ev.detail, `${at}.event[${i}].detail`));
  const sections = (owner: Json, p: string) =>
    list(owner.section).forEach((s, i) => {
      if (!isObject(s)) return;
      const sp = `${p}.section[${i}]`;
      add(s.author, `${sp}.author`);
      add(s.focus, `${sp}.focus`);
      add(s.entry, `${sp}.entry`);
      sections(s, sp);
    });
  sections(c, at);
  return refs;
}

function checkDocument(bundle: Json, entries: readonly Entry[], push: Push): void {
  const first = entries[0];
  if (!first?.resource || first.resource.resourceType !== 'Composition') return; // bdl-11
  const resolver = new Resolver(entries);
  for (const [at, ref] of compositionReferences(first.resource, `${first.path}.resource`)) {
    const r = isObject(ref) ? str(ref.reference) : undefined;
    if (r === undefined || r.startsWith('#')) continue;
    if (resolver.resolve(r, first.fullUrl) === undefined) {
      push('error', 'not-found', `${at} refers to a resource that is not in the document Bundle: the resources the Composition refers to SHALL be included (R4 documents.html)`, at);
    }
  }
  // Reachability from the Composition: the document SHALL include only what it reaches,
  // a stylesheet linked from Bundle.link, and Provenance of included resources.
  const targets = entries.map((e) =>
    e.resource ? referencesIn(e.resource, []).map((ref) => resolver.resolve(ref, e.fullUrl)).filter((t): t is number => t !== undefined) : [],
  );
  const reached = new Set<number>();
  const visit = (i: number) => {
    if (reached.has(i)) return;
    reached.add(i);
    for (const t of targets[i]!) visit(t);
  };
  visit(0);
  for (const l of list(bundle.link)) {
    if (!isObject(l) || l.relation !== 'stylesheet' || typeof l.url !== 'string') continue;
    const t = resolver.resolve(l.url, undefined);
    if (t !== undefined) visit(t);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of entries) {
      if (reached.has(e.index) || e.resource?.resourceType !== 'Provenance') continue;
      if (targets[e.index]!.some((t) => reached.has(t))) {
        visit(e.index);
        grew = true;
      }
    }
  }
  for (const e of entries) {
    if (e.resource && !reached.has(e.index)) {
      push('error', 'invalid', `${e.path} is not referenced, directly or indirectly, from the Composition: a document Bundle SHALL include only the Composition, what it refers to, a stylesheet and Provenance of them`, e.path);
    }
  }
}

function checkMessage(entries: readonly Entry[], push: Push): void {
  const first = entries[0];
  if (!first?.resource || first.resource.resourceType !== 'MessageHeader') return; // bdl-12
  const resolver = new Resolver(entries);
  list(first.resource.focus).forEach((f, i) => {
    const r = isObject(f) ? str(f.reference) : undefined;
    if (r === undefined || r.startsWith('#')) return;
    const at = `${first.path}.resource.focus[${i}]`;
    if (resolver.resolve(r, first.fullUrl) === undefined) push('warning', 'not-found', `${at} refers to a resource that is not in the message Bundle`, at);
  });
}
