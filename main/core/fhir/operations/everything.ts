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
import type { KeyedRid } from '../../search/index/join-queries';
import type { FhirContext } from '../context';
import type { Handler } from '../interactions/route';
import { requireId, safeName } from '../resource-input';
import { searchsetBundle } from '../search-bundle';
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

  // Members of the compartment (with the patient) in one index query, each keyed already,
  // then what the kept ones reference in another: the page is cut from these keys, with no
  // further query per type.
  const index = ctx.search.index;
  const members = index.compartmentKeys(ctx.compartments.memberParams(type), type, id);
  const kept = query.has('_since') || query.has('start') || query.has('end') ? inRange(ctx, query, members, filters) : members;
  const out = new Map<number, KeyedRid>();
  for (const k of kept) if (types.has(k.type)) out.set(k.rid, k);
  // References of every kept member count, whether or not _type lists the member's type.
  const targets = index.referencedKeys(kept.map((k) => k.rid)).filter((k) => types.has(k.type) && !out.has(k.rid));
  for (const k of since ? filterKeys(ctx, targets, filters) : targets) out.set(k.rid, k);
  if (!query.has('_count')) query.set('_count', String(ctx.settings.maxPageSize));
  const keys = [...out.values()];
  return respond(200, await searchsetBundle(req, ctx, query, (request) => ctx.search.pageOfKeys(keys, request)));
};

/** The members that `_since` and `start`/`end` (care dates, where the type has them) keep. */
function inRange(ctx: FhirContext, query: URLSearchParams, members: readonly KeyedRid[], filters: (t: string) => Criterion[]): KeyedRid[] {
  return filterKeys(ctx, members, (t) => [...filters(t), ...careDates(ctx, t, query)]);
}

/** The keys of each type that also meet that type's criteria (all of them when it has none). */
function filterKeys(ctx: FhirContext, keys: readonly KeyedRid[], criteriaOf: (t: string) => Criterion[]): KeyedRid[] {
  const byType = new Map<string, KeyedRid[]>();
  for (const k of keys) {
    const list = byType.get(k.type);
    if (list) list.push(k);
    else byType.set(k.type, [k]);
  }
  const out: KeyedRid[] = [];
  for (const [t, list] of byType) {
    const extra = criteriaOf(t);
    if (extra.length === 0) {
      out.push(...list);
      continue;
    }
    const match = new Set(ctx.search.matchRids(t, [{ kind: 'rids', rids: list.map((k) => k.rid) }, ...extra]));
    for (const k of list) if (match.has(k.rid)) out.push(k);
  }
  return out;
}

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
