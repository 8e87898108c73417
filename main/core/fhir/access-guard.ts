/**
 * Access control around the FHIR router, in one place (docs/access-control.md). For a
 * request that carries a principal, the router asks the guard three things:
 *  - before the handler: is the route's interaction allowed on its type, and for an
 *    instance, is that resource inside the caller's restrictions (a patient's
 *    compartment, a scope's query)? A denial is 403 whether or not the resource exists;
 *  - during the handler: the criteria that confine a search (scopeFor), and at commit
 *    (checkWrites, run by the router's commit hook) a refusal of writes outside the
 *    caller's rights (every write path, single or transaction, ends in ResourceStore.commit);
 *  - after: a searchset or history Bundle leaving the server loses every entry the
 *    caller may not read (_include, _revinclude, $everything, history).
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { forbidden } from '../../../shared/fhir/outcome';
import { decide, type Restriction } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import type { Interaction } from '../auth/roles';
import { parseCriteria, type Criterion } from '../search/criteria';
import { createExtractor, type Extractor } from '../search/extract/extract';
import type { HeadDoc } from '../store/documents';
import { lockKey, type PendingWrite } from '../store/resource-store';
import type { Definitions } from './definitions';
import type { FhirContext } from './context';
import type { Route } from './registry';
import type { RouteParams } from './interactions/route';
import { permissionOf } from './route-interaction';
import type { FhirRequest, FhirResponse } from './types';

const DENIED = 'You are not permitted to do this';

/** Per request: what handlers consult (search scope) and what the store enforces. */
export interface RequestAccess {
  principal: Principal;
  /** Criteria AND-ed into a search of `type`; throws 403 if the caller may not search it. */
  scopeFor(type: string, interaction?: Interaction): Criterion[];
  /** Whether `type` may be searched at all (system search drops the others). */
  maySearch(type: string): boolean;
}

const extractors = new WeakMap<Definitions, Extractor>();
const extractorFor = (defs: Definitions) => {
  let e = extractors.get(defs);
  if (!e) extractors.set(defs, (e = createExtractor(defs)));
  return e;
};

/** The access handle a guarded request's handlers consult. */
export function requestAccess(ctx: FhirContext, principal: Principal): RequestAccess {
  return {
    principal,
    scopeFor(type, interaction = 'search') {
      const d = decide(principal, type, interaction);
      if (!d.allow) throw forbidden(DENIED);
      if (!d.restrictions) return [];
      const c = restrictionCriterion(ctx, type, d.restrictions);
      if (!c) throw forbidden(DENIED);
      return [c];
    },
    maySearch: (type) => decide(principal, type, 'search').allow,
  };
}

/** Throws 403 unless the principal may make every one of these writes (checked at commit). */
export function checkWrites(ctx: FhirContext, principal: Principal, writes: readonly PendingWrite[], heads: ReadonlyMap<string, HeadDoc>): void {
  for (const w of writes) checkWrite(ctx, principal, w, heads.get(lockKey(w.type, w.id)));
}

/** Before the handler: the route's interaction on its type, and instance membership. */
export async function checkRoute(ctx: FhirContext, req: FhirRequest, principal: Principal, route: Route, params: RouteParams): Promise<void> {
  if (route.interaction === 'capabilities') return;
  if (route.operation === 'reindex') {
    if (!principal.admin) throw forbidden(DENIED);
    return;
  }
  // A bulk export checks its own rights (the export permission, then read and search of
  // each type it covers); its status and files are the starting principal's alone.
  if (route.operation === 'export' || route.pattern[0] === '_export') return;
  // So does a bulk import (the import permission; each commit then checks its writes).
  if (route.operation === 'import' || route.pattern[0] === '_import') return;
  const type = params.type;
  const interaction = permissionOf(route, req);
  if (!type || !interaction) return; // system-level: transaction/batch entries and search are checked one by one
  const d = decide(principal, type, interaction);
  if (!d.allow) throw forbidden(DENIED);
  // Conditional interactions match across everything: they cannot be confined, so a confined caller may not use them.
  if (d.restrictions && ((route.conditional && !params.id && route.method !== 'POST') || req.headers['if-none-exist'])) throw forbidden(DENIED);
  if (d.restrictions && params.id && !['create', 'search'].includes(interaction) && !inScope(ctx, type, params.id, d.restrictions)) {
    throw forbidden(DENIED);
  }
}


/** After the handler: searchsets and history Bundles keep only what the caller may read. */
export function filterResponse(ctx: FhirContext, principal: Principal, res: FhirResponse): FhirResponse {
  const body = res.body as Bundle | undefined;
  if (body?.resourceType !== 'Bundle' || (body.type !== 'searchset' && body.type !== 'history') || !body.entry) return res;
  const keep = readableEntries(ctx, principal, body.entry, body.type === 'history' ? 'history' : 'read');
  const entry = body.entry.filter((e) => keep.has(e));
  const out: Bundle = { ...body };
  if (entry.length > 0) out.entry = entry;
  else delete out.entry;
  return { ...res, body: out };
}

function readableEntries(ctx: FhirContext, principal: Principal, entries: BundleEntry[], interaction: Interaction): Set<BundleEntry> {
  const keep = new Set<BundleEntry>();
  const byType = new Map<string, BundleEntry[]>();
  for (const e of entries) {
    const r = e.resource;
    if (r?.resourceType === 'OperationOutcome') {
      keep.add(e);
      continue;
    }
    if (!r) {
      // A history entry of a deletion has no resource: its type is in the request URL.
      // Kept only for callers whose rights on the type are unrestricted (nothing to check it against).
      const type = /^([A-Z][A-Za-z]+)\//.exec(e.request?.url ?? '')?.[1];
      const d = type ? decide(principal, type, interaction === 'history' ? 'history' : 'read') : undefined;
      if (d?.allow && !d.restrictions) keep.add(e);
      continue;
    }
    const list = byType.get(r.resourceType) ?? [];
    list.push(e);
    byType.set(r.resourceType, list);
  }
  for (const [type, list] of byType) {
    // Search matches were confined already; read rights cover includes and history too.
    const d = decide(principal, type, interaction === 'history' ? 'history' : 'read');
    const dSearch = decide(principal, type, 'search');
    const allowed = d.allow ? d : dSearch;
    if (!allowed.allow) continue;
    if (!allowed.restrictions) {
      for (const e of list) keep.add(e);
      continue;
    }
    const ids = new Set(matchingIds(ctx, type, list.map((e) => e.resource!.id!), allowed.restrictions));
    for (const e of list) if (ids.has(e.resource!.id!)) keep.add(e);
  }
  return keep;
}

/** Restrictions as one criterion (OR of grants, each AND of compartment and query); undefined when none can match. */
function restrictionCriterion(ctx: FhirContext, type: string, restrictions: Restriction[]): Criterion | undefined {
  const alternatives: Criterion[] = [];
  for (const r of restrictions) {
    const parts: Criterion[] = [];
    if (r.patient !== undefined) {
      const m = ctx.compartments.membership('Patient', r.patient, type);
      if (!m) continue; // this type is never in a patient's compartment
      parts.push(m);
    }
    if (r.query) {
      const parsed = parseCriteria(ctx.defs, type, r.query);
      if (parsed.unsupported.length > 0) continue; // a restriction we cannot evaluate grants nothing
      parts.push(...parsed.filters);
    }
    alternatives.push(parts.length === 1 ? parts[0]! : { kind: 'all', of: parts });
  }
  return alternatives.length === 0 ? undefined : { kind: 'any', of: alternatives };
}

function matchingIds(ctx: FhirContext, type: string, ids: string[], restrictions: Restriction[]): string[] {
  const c = restrictionCriterion(ctx, type, restrictions);
  const idParam = ctx.defs.searchParams(type).get('_id');
  if (!c || !idParam || ids.length === 0) return [];
  const rids = ctx.search.matchRids(type, [c, { kind: 'param', param: idParam, values: ids }]);
  return ctx.search.index.keysOf(rids).map((k) => k.id);
}

const inScope = (ctx: FhirContext, type: string, id: string, restrictions: Restriction[]) =>
  matchingIds(ctx, type, [id], restrictions).length > 0;

function checkWrite(ctx: FhirContext, principal: Principal, w: PendingWrite, head: HeadDoc | undefined): void {
  const existing = head && !head.deleted ? head.resource : undefined;
  const interaction: Interaction = w.method === 'DELETE' ? 'delete' : w.method === 'PATCH' ? 'patch' : existing ? 'update' : 'create';
  const d = decide(principal, w.type, interaction);
  if (!d.allow) throw forbidden(DENIED);
  if (!d.restrictions) return;
  // Confined writes: only patient confinement can be checked on content not yet stored;
  // both the old and the new content must be in the patient's compartment.
  const ok = d.restrictions.some(
    (r) => r.patient !== undefined && !r.query && (!existing || inCompartment(ctx, existing, r.patient)) && (!w.resource || inCompartment(ctx, w.resource, r.patient)),
  );
  if (!ok) throw forbidden(DENIED);
}

/** Whether a resource's own content puts it in Patient/<patient>'s compartment. */
function inCompartment(ctx: FhirContext, resource: Resource, patient: string): boolean {
  const type = resource.resourceType;
  if (type === 'Patient' && resource.id === patient) return true;
  const m = ctx.compartments.membership('Patient', patient, type);
  if (!m || m.kind !== 'any') return false;
  const params = new Set(m.of.flatMap((c) => (c.kind === 'param' && c.param.type === 'reference' ? [c.param.code] : [])));
  return extractorFor(ctx.defs)
    .extract(resource)
    .references.some((r) => params.has(r.param) && r.targetType === 'Patient' && r.targetId === patient);
}
