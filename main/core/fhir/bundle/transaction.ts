/**
 * transaction: all entries succeed together or nothing is stored. Under the store's
 * exclusive write lock: (1) decide every entry's target id (conditional creates/updates/
 * deletes resolved against the state before the transaction), (2) resolve conditional
 * references, (3) rewrite references and plan each write in the spec's order (DELETE,
 * POST, PUT/PATCH), (4) commit every write in one atomic store commit, (5) run GETs.
 * Any failure throws before (4), so a failed transaction stores nothing.
 */
import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError, badRequest, multipleMatches, notFound, outcomeOf } from '../../../../shared/fhir/outcome';
import type { HeadDoc, VersionRecord } from '../../store/documents';
import { lockKey, type PendingWrite } from '../../store/resource-store';
import { criteriaOf, findByCriteria } from '../conditional';
import type { FhirContext } from '../context';
import { preferReturn, versionHeaders } from '../representation';
import { requireId, requireType, validResource } from '../resource-input';
import { respond, type FhirRequest, type FhirResponse } from '../types';
import { newId, planCreate, planDelete, planPatch, planUpdate, type PlannedWrite } from '../write-plan';
import { entryRequest, entryTarget, responseEntry, type EntryTarget } from './entry-request';
import { CONDITIONAL_REF, collectReferences, rewriteReferences } from './references';

interface Step {
  index: number;
  entry: BundleEntry;
  target: EntryTarget;
  type: string;
  /** Target ids (several for a conditional DELETE). */
  ids: string[];
  /** POST whose If-None-Exist matched: no write, answer with the existing resource. */
  existing?: HeadDoc;
  planned: PlannedWrite[];
  /** The validator's verdict on entry.resource, computed before the lock. */
  issues?: OperationOutcomeIssue[];
  response?: BundleEntry;
}

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export async function transaction(req: FhirRequest, ctx: FhirContext, bundle: Bundle): Promise<FhirResponse> {
  const steps: Step[] = (bundle.entry ?? []).map((entry, index) => {
    const target = entryTarget(entry, index, req.baseUrl);
    const type = target.path[0] ?? '';
    if (target.path.length === 0) throw badRequest(`Bundle entry ${index}: Bundles cannot be nested in a transaction`);
    atEntry(index, () => requireType(ctx, type));
    return { index, entry, target, type, ids: [], planned: [] };
  });
  refuseOverlappingConditions(steps);
  prevalidate(ctx, steps);
  return lockFor(ctx, steps)(async () => {
    const refMap = new Map<string, string>();
    for (const step of steps) await atEntryAsync(step.index, () => resolveTarget(ctx, step, refMap));
    await resolveConditionalReferences(ctx, steps, refMap);
    const written = new Set<string>();
    // POSTs get fresh random ids: they have no head to read.
    const existing = steps.filter((s) => s.target.method !== 'POST');
    const heads = await ctx.store.heads(existing.flatMap((s) => s.ids.map((id) => ({ type: s.type, id }))));
    const ordered = [...steps].sort((a, b) => (ORDER[a.target.method] ?? 9) - (ORDER[b.target.method] ?? 9) || a.index - b.index);
    for (const step of ordered) {
      atEntry(step.index, () => planStep(ctx, step, refMap, heads));
      for (const p of step.planned) {
        const key = lockKey(p.write.type, p.write.id);
        if (written.has(key)) throw badRequest(`Bundle entry ${step.index}: a resource may appear only once in a transaction`);
        written.add(key);
      }
    }
    const writes: PendingWrite[] = ordered.flatMap((s) => s.planned.map((p) => p.write));
    const records = await ctx.store.commit(writes, heads);
    const byKey = new Map(records.map((r) => [lockKey(r.type, r.id), r]));
    for (const step of ordered) step.response = await respondStep(req, ctx, step, byKey);
    return respond(200, {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: steps.map((s) => s.response as BundleEntry),
    });
  });
}

/**
 * The lock a transaction runs under. One that searches (a conditional entry or a conditional
 * reference) or reads (a GET) holds the store lock exclusively, so that what it found is
 * still true when it commits and its reads see exactly its own state. Any other knows every
 * resource it touches beforehand (ids in its URLs; POSTs get fresh random ids), so it takes
 * the store lock shared and each of those resources exclusively, like single writes: plain
 * transactions no longer wait for every write in flight, nor hold up every write behind them
 * (+16-26% requests/s at saturation in bench/load.mjs, docs/benchmarks.md section 10).
 */
function lockFor(ctx: FhirContext, steps: Step[]): <T>(fn: () => Promise<T>) => Promise<T> {
  const searchesOrReads = steps.some(({ target: { method, path }, entry }) =>
    method === 'GET' ||
    method === 'HEAD' ||
    (method === 'POST' && Boolean(entry.request?.ifNoneExist)) ||
    (method !== 'POST' && path.length < 2) || // conditional PUT, PATCH or DELETE
    (entry.resource !== undefined && [...collectReferences(entry.resource)].some((r) => CONDITIONAL_REF.test(r))),
  );
  if (searchesOrReads) return (fn) => ctx.store.locks.exclusive(fn);
  const keys = steps.filter((s) => s.target.method !== 'POST').map((s) => lockKey(s.type, s.target.path[1]!));
  return (fn) => ctx.store.locks.resources(keys, fn);
}

/**
 * Two conditional entries on one type with the same criteria (a conditional update and a
 * conditional create of `identifier=X`, say) resolve to the same resource, whether it
 * exists or both would make it: the transaction fails (R4 http.html#trules: resolved
 * identities must not overlap). Without this check both would run and store two
 * resources with the identifier. Criteria compare as sets of parameters, in any order.
 */
function refuseOverlappingConditions(steps: Step[]): void {
  const seen = new Map<string, number>();
  for (const s of steps) {
    const { method, path, query } = s.target;
    let criteria: string | undefined;
    if (method === 'POST' && s.entry.request?.ifNoneExist) criteria = s.entry.request.ifNoneExist.replace(/^[^?]*\?/, '');
    else if ((method === 'PUT' || method === 'PATCH' || method === 'DELETE') && path.length === 1) criteria = criteriaOf(query).toString();
    if (criteria === undefined) continue;
    const params = [...new URLSearchParams(criteria)].map(([k, v]) => `${k}=${v}`).sort();
    const key = `${s.type}?${params.join('&')}`;
    const other = seen.get(key);
    if (other !== undefined) {
      throw badRequest(`Bundle entries ${other} and ${s.index} are conditional on the same ${s.type} criteria, so they resolve to the same resource; a transaction may touch a resource only once`);
    }
    seen.set(key, s.index);
  }
}

/**
 * Validates every resource the transaction creates or replaces before the exclusive lock
 * is taken, so other writers are not held up by it. Rewriting references later only
 * swaps one reference string for another, which cannot change the verdict.
 */
function prevalidate(ctx: FhirContext, steps: Step[]): void {
  for (const s of steps) {
    if (s.entry.resource && (s.target.method === 'POST' || s.target.method === 'PUT')) {
      s.issues = ctx.validator.validate(s.entry.resource);
    }
  }
}

/** Decides which resource(s) an entry writes, and records fullUrl -> Type/id. */
async function resolveTarget(ctx: FhirContext, step: Step, refMap: Map<string, string>): Promise<void> {
  const { method, path, query } = step.target;
  const { type, entry } = step;
  if (method === 'GET' || method === 'HEAD') return;
  if (method === 'POST') {
    if (path.length !== 1) throw badRequest('POST entries must address a resource type');
    const ifNoneExist = entry.request?.ifNoneExist;
    const matches = ifNoneExist ? await findByCriteria(ctx, type, ifNoneExist.replace(/^[^?]*\?/, '')) : [];
    if (matches.length > 1) throw multipleMatches('If-None-Exist matches more than one resource');
    if (matches[0]) step.existing = matches[0];
    step.ids = matches[0] ? [] : [newId()];
  } else if (path.length === 2) {
    requireId(path[1]!);
    step.ids = [path[1]!];
  } else if (path.length === 1) {
    const matches = await findByCriteria(ctx, type, criteriaOf(query));
    if (method === 'DELETE') step.ids = matches.map((m) => m.id);
    else if (matches.length > 1) throw multipleMatches('The criteria match more than one resource');
    else if (matches[0]) step.ids = [matches[0].id];
    else if (method === 'PATCH') throw notFound('No resource matches the criteria');
    else step.ids = [(entry.resource as Resource | undefined)?.id ?? newId()];
  } else throw badRequest(`${method} entries must address a resource or a type with criteria`);
  const id = step.existing?.id ?? step.ids[0];
  if (entry.fullUrl && id !== undefined && method !== 'DELETE') refMap.set(entry.fullUrl, `${type}/${id}`);
}

async function resolveConditionalReferences(ctx: FhirContext, steps: Step[], refMap: Map<string, string>): Promise<void> {
  for (const step of steps) {
    if (!step.entry.resource) continue;
    for (const ref of collectReferences(step.entry.resource)) {
      if (refMap.has(ref)) continue;
      if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
        throw badRequest(`Bundle entry ${step.index}: a reference names no entry of this transaction`);
      }
      const m = CONDITIONAL_REF.exec(ref);
      if (!m) continue;
      const type = m[1]!;
      const matches = await atEntryAsync(step.index, async () => {
        requireType(ctx, type);
        return findByCriteria(ctx, type, m[2]!);
      });
      if (matches.length !== 1) {
        throw badRequest(
          `Bundle entry ${step.index}: a conditional reference to ${type} matched ${matches.length} resources; it must match exactly one`,
        );
      }
      refMap.set(ref, `${type}/${matches[0]!.id}`);
    }
  }
}

function planStep(ctx: FhirContext, step: Step, refMap: Map<string, string>, heads: Map<string, HeadDoc>): void {
  const { method } = step.target;
  const { type, entry } = step;
  const ifMatch = entry.request?.ifMatch;
  const body = entry.resource ? rewriteReferences(entry.resource, refMap) : undefined;
  const id = step.ids[0];
  if (method === 'DELETE') {
    step.planned = step.ids
      .map((i) => planDelete(type, i, heads.get(lockKey(type, i)), ifMatch))
      .filter((p): p is PlannedWrite => p !== null);
  } else if (method === 'POST' && id !== undefined) {
    step.planned = [planCreate(type, validResource(ctx, body, type, undefined, step.issues), id)];
  } else if (method === 'PUT' && id !== undefined) {
    const resource = validResource(ctx, body, type, step.target.path.length === 2 ? id : undefined, step.issues);
    step.planned = [planUpdate(type, id, { ...resource, id } as Resource, heads.get(lockKey(type, id)), { ifMatch })];
  } else if (method === 'PATCH' && id !== undefined) {
    const r = entryRequest({ ...entry, ...(body ? { resource: body } : {}) }, step.target, { baseUrl: '' }, step.index);
    step.planned = [planPatch(ctx, type, id, heads.get(lockKey(type, id)), { contentType: r.contentType ?? '', body: r.body }, ifMatch)];
  }
}

async function respondStep(req: FhirRequest, ctx: FhirContext, step: Step, byKey: Map<string, VersionRecord>): Promise<BundleEntry> {
  const { method } = step.target;
  if (method === 'GET' || method === 'HEAD') {
    return responseEntry(await ctx.dispatch!(entryRequest(step.entry, step.target, req, step.index)));
  }
  if (step.existing) return writtenEntry(req, step.existing, 200);
  if (method === 'DELETE') return { response: { status: step.planned.length > 0 ? '200 OK' : '204 No Content' } };
  const plan = step.planned[0]!;
  return writtenEntry(req, byKey.get(lockKey(plan.write.type, plan.write.id))!, plan.status);
}

function writtenEntry(req: FhirRequest, rec: VersionRecord, status: number): BundleEntry {
  const h = versionHeaders(rec, req.baseUrl, true);
  const entry: BundleEntry = {
    fullUrl: `${req.baseUrl}/${rec.type}/${rec.id}`,
    response: { status: status === 201 ? '201 Created' : '200 OK', location: h.Location!, etag: h.ETag!, lastModified: rec.ts },
  };
  if (rec.resource && preferReturn(req) === 'representation') entry.resource = rec.resource;
  return entry;
}

/** Prefixes errors with the entry they came from, so the client can find it. */
function atEntry<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw prefixed(index, e);
  }
}

async function atEntryAsync<T>(index: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw prefixed(index, e);
  }
}

function prefixed(index: number, e: unknown): unknown {
  if (!(e instanceof FhirError)) return e;
  const issues = (e.outcome.issue ?? []).map((i) =>
    i.diagnostics?.startsWith('Bundle entry') ? i : { ...i, diagnostics: `Bundle entry ${index}: ${i.diagnostics ?? ''}` },
  );
  return new FhirError(e.status, outcomeOf(issues));
}
