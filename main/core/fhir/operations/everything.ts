/**
 * Patient/[id]/$everything (GET or POST): the patient, every resource in its
 * compartment, and the resources those reference (practitioners, organizations,
 * medications, ...), as one paged searchset. Parameters (R4 Patient-everything):
 *   _since   only resources last updated at or after this instant
 *   _type    only these resource types
 *   start/end  care dates: members with a `date` search parameter must fall in the range;
 *            members without one are kept (the definition leaves their dates unstated)
 *   _count   page size (default: the server's largest, so that one request normally
 *            brings the whole record; larger records page by `next` links)
 */
import { badRequest, gone, notFound } from '../../../../shared/fhir/outcome';
import type { Criterion, ParamCriterion } from '../../search/criteria';
import type { TypeCriteria } from '../../search/index-search';
import type { FhirContext } from '../context';
import type { Handler } from '../interactions/route';
import { requireId, safeName } from '../resource-input';
import { pagedBundle } from '../search-bundle';
import { respond, type FhirRequest } from '../types';

const OWN = new Set(['_since', '_type', 'start', 'end', '_count', '_cursor', '_elements', '_summary', '_format', '_pretty', '_total']);

export const everything: Handler = async (req, ctx, { type = '', id = '' }) => {
  requireId(id);
  if (!ctx.compartments.types.includes(type)) throw notFound(`$everything is not defined for ${type}`);
  const head = (await ctx.store.heads([{ type, id }])).get(`${type}/${id}`);
  if (!head) throw notFound(`${type}/${id} is not known`);
  if (head.deleted) throw gone(`${type}/${id} has been deleted`);

  const query = parametersOf(req);
  const unknown = [...query.keys()].filter((k) => !OWN.has(k));
  if (unknown.length > 0) throw badRequest(`$everything does not take: ${unknown.map(safeName).join(', ')}`);
  const types = typesOf(ctx, query, type);
  const since = query.get('_since');
  const filters = (t: string): Criterion[] => {
    const out: Criterion[] = [];
    if (since) out.push(param(ctx, t, '_lastUpdated', `ge${since}`));
    return out;
  };

  // Members of the compartment, then what they reference, grouped by type.
  const byType = new Map<string, Set<number>>();
  const add = (t: string, rids: readonly number[]) => {
    if (!types.has(t) || rids.length === 0) return;
    const set = byType.get(t) ?? new Set<number>();
    for (const r of rids) set.add(r);
    byType.set(t, set);
  };
  // Members in one index query over every compartment parameter, plus the patient itself.
  const index = ctx.search.index;
  const members = [...index.referencingAny(ctx.compartments.memberParams(type), type, id), ...index.ids(type, [id])];
  const memberTypes = new Map<string, number[]>();
  for (const k of index.keysOf(members)) {
    const list = memberTypes.get(k.type) ?? [];
    list.push(k.rid);
    memberTypes.set(k.type, list);
  }
  const kept: number[] = [];
  for (const [t, rids] of memberTypes) {
    const extra = [...filters(t), ...careDates(ctx, t, query)];
    const inRange = extra.length > 0 ? ctx.search.matchRids(t, [{ kind: 'rids', rids }, ...extra]) : rids;
    kept.push(...inRange);
    add(t, inRange);
  }
  const targets = new Map<string, Set<string>>();
  for (const r of index.distinctTargets(kept)) {
    const ids = targets.get(r.targetType) ?? new Set<string>();
    ids.add(r.targetId);
    targets.set(r.targetType, ids);
  }
  for (const [t, ids] of targets) {
    if (!types.has(t)) continue;
    const found = index.ids(t, [...ids]);
    add(t, since ? ctx.search.matchRids(t, [{ kind: 'rids', rids: found }, ...filters(t)]) : found);
  }
  const queries: TypeCriteria[] = [...byType].map(([t, rids]) => ({ type: t, criteria: [{ kind: 'rids', rids: [...rids] }] }));
  if (!query.has('_count')) query.set('_count', String(ctx.settings.maxPageSize));
  return respond(200, await pagedBundle(req, ctx, query, queries));
};

/** GET takes the URL query; POST takes Parameters (valueX of each named parameter). */
function parametersOf(req: FhirRequest): URLSearchParams {
  const q = new URLSearchParams(req.query);
  const body = req.body as { resourceType?: string; parameter?: Array<Record<string, unknown>> } | undefined;
  if (req.method === 'POST' && body?.resourceType === 'Parameters') {
    for (const p of body.parameter ?? []) {
      const value = Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
      if (typeof p.name === 'string' && (typeof value === 'string' || typeof value === 'number')) q.append(p.name, String(value));
    }
  }
  return q;
}

function typesOf(ctx: FhirContext, query: URLSearchParams, compartment: string): Set<string> {
  const listed = (query.get('_type') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of listed) if (!ctx.defs.isResourceType(t)) throw badRequest(`_type names an unknown resource type '${safeName(t)}'`);
  if (listed.length > 0) return new Set(listed);
  return new Set([compartment, ...ctx.defs.resourceTypes]);
}

function param(ctx: FhirContext, type: string, code: string, value: string): ParamCriterion {
  const p = ctx.defs.searchParams(type).get(code);
  if (!p) throw badRequest(`${type} has no '${code}' search parameter`);
  return { kind: 'param', param: p, values: [value] };
}

/** start/end against the member type's clinical `date` parameter, where it has one. */
function careDates(ctx: FhirContext, type: string, query: URLSearchParams): Criterion[] {
  const p = ctx.defs.searchParams(type).get('date');
  if (!p || p.type !== 'date') return [];
  const out: Criterion[] = [];
  const start = query.get('start');
  const end = query.get('end');
  if (start) out.push({ kind: 'param', param: p, values: [`ge${start}`] });
  if (end) out.push({ kind: 'param', param: p, values: [`le${end}`] });
  return out;
}
