/**
 * Runs a search and builds its searchset Bundle; shared by type, system and compartment
 * search and by $everything's paging. Criteria per type (plus a scope such as a
 * compartment), `_sort`, keyset paging (`_cursor`), `_include`/`_revinclude`, `_total`,
 * `_summary`/`_elements`. Unsupported parameters: 400 under `Prefer: handling=strict`,
 * otherwise ignored, reported in an OperationOutcome entry and left out of `self`.
 */
import type { Bundle, BundleEntry, BundleLink } from '@medplum/fhirtypes';
import { badRequest, forbidden, outcome } from '../../../shared/fhir/outcome';
import { parseCriteria, type Criterion } from '../search/criteria';
import { parseIncludes, resolveIncludes, type IncludeSpec } from '../search/includes';
import type { KeyedRid } from '../search/index/join-queries';
import type { PageRequest, SearchPage, TypeCriteria } from '../search/index-search';
import { decodeKey, encodeKey, parseSort, type SortKey, type SortParam } from '../search/sort';
import type { FhirContext } from './context';
import { pageSize } from './paging';
import { shapeResource } from './representation';
import { safeName } from './resource-input';
import type { FhirRequest } from './types';

export interface SearchScope {
  types: readonly string[];
  /** Criteria every match must also meet, per type (e.g. compartment membership). */
  scope?: (type: string) => Criterion[];
}

export async function searchBundle(req: FhirRequest, ctx: FhirContext, query: URLSearchParams, { types, scope }: SearchScope): Promise<Bundle> {
  const unsupported = new Set<string>();
  for (const t of types) for (const k of parseCriteria(ctx.defs, t, query).unsupported) unsupported.add(k);
  const includes = parseIncludes(ctx.defs, query);
  for (const u of includes.unsupported) unsupported.add(u);
  // Contained resources are not indexed apart from their container: only the default is served.
  for (const [k, v] of query) {
    if ((k === '_contained' && v !== 'false') || (k === '_containedType' && v !== 'container')) unsupported.add(k);
  }
  if (isStrict(req) && unsupported.size > 0) {
    throw badRequest(`Unknown or unsupported search parameters: ${[...unsupported].map(safeName).join(', ')}`);
  }
  const applied = new URLSearchParams();
  for (const [k, v] of query) if (!unsupported.has(k) && !unsupported.has(`${k}=${v}`)) applied.append(k, v);
  // A parameter unknown for one of several types is dropped for all: it cannot mean the same thing.
  // Access control: a single type the caller may not search is 403; several are narrowed.
  const access = ctx.access;
  const searched = access && types.length > 1 ? types.filter((t) => access.maySearch(t)) : types;
  if (searched.length === 0) throw forbidden('You are not permitted to do this');
  const queries: TypeCriteria[] = searched.map((type) => ({
    type,
    criteria: [...parseCriteria(ctx.defs, type, applied).filters, ...(scope?.(type) ?? []), ...(access?.scopeFor(type) ?? [])],
  }));
  const sort = parseSort(ctx.defs, searched, applied.get('_sort'));
  return pagedBundle(req, ctx, applied, queries, { sort, includes: includes.specs, unsupported: [...unsupported] });
}

export interface PagedOptions {
  sort?: SortParam[];
  includes?: IncludeSpec[];
  /** Ignored parameters, reported in an OperationOutcome entry. */
  unsupported?: string[];
}

/**
 * One page of `queries` as a searchset: `applied` holds the parameters that were applied
 * (for links, `_count`, `_cursor`, `_total`, `_summary`, `_elements`).
 */
export async function pagedBundle(
  req: FhirRequest,
  ctx: FhirContext,
  applied: URLSearchParams,
  queries: readonly TypeCriteria[],
  { sort = [], ...rest }: PagedOptions = {},
): Promise<Bundle> {
  return searchsetBundle(req, ctx, applied, (request) => ctx.search.page(queries, sort, request), rest);
}

/**
 * The searchset of one page that `pageOf` cuts for the page request `applied` asks for
 * (`_count`, `_cursor`): `pagedBundle` pages criteria, `$everything` resources it found itself.
 */
export async function searchsetBundle(
  req: FhirRequest,
  ctx: FhirContext,
  applied: URLSearchParams,
  pageOf: (request: PageRequest) => SearchPage,
  { includes = [], unsupported = [] }: Omit<PagedOptions, 'sort'> = {},
): Promise<Bundle> {
  const summaryCount = applied.get('_summary') === 'count';
  const totalMode = applied.get('_total') ?? 'accurate';
  if (!['none', 'estimate', 'accurate'].includes(totalMode)) throw badRequest(`_total must be none, estimate or accurate`);
  const request: PageRequest = { count: summaryCount ? 0 : pageSize(applied, ctx.settings), ...decodeCursor(applied) };
  const page = pageOf(request);

  const included = resolveIncludes(ctx.search.index, page.entries, includes);
  const entries = [
    ...(await entriesOf(req, ctx, applied, page.entries, 'match')),
    ...(await entriesOf(req, ctx, applied, included, 'include')),
  ];
  if (unsupported.length > 0) {
    entries.push({
      resource: outcome('warning', 'not-supported', `Ignored unknown or unsupported search parameters: ${unsupported.map(safeName).join(', ')}`),
      search: { mode: 'outcome' },
    });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  if (totalMode !== 'none' || summaryCount) bundle.total = page.total;
  bundle.link = links(req, applied, page);
  if (entries.length > 0) bundle.entry = entries;
  return bundle;
}

export const isStrict = (req: FhirRequest): boolean => /handling\s*=\s*strict/i.test(req.headers['prefer'] ?? '');

async function entriesOf(
  req: FhirRequest,
  ctx: FhirContext,
  query: URLSearchParams,
  keys: readonly KeyedRid[],
  mode: 'match' | 'include',
): Promise<BundleEntry[]> {
  if (keys.length === 0) return [];
  const heads = await ctx.store.heads(keys);
  // Without _summary or _elements every resource goes out as stored.
  const shaped = query.has('_summary') || query.has('_elements');
  const out: BundleEntry[] = [];
  for (const { type, id } of keys) {
    const head = heads.get(`${type}/${id}`);
    if (!head?.resource || head.deleted) continue; // deleted since the index answered
    out.push({ fullUrl: `${req.baseUrl}/${type}/${id}`, resource: shaped ? shapeResource(head.resource, query, ctx.defs.isSummary) : head.resource, search: { mode } });
  }
  return out;
}

/** `_cursor` is `n.<key>` (entries after the key), `p.<key>` (entries before it) or `last` (the last page). */
function decodeCursor(query: URLSearchParams): Pick<PageRequest, 'after' | 'before' | 'last'> {
  const raw = query.get('_cursor');
  if (raw === null) return {};
  if (raw === 'last') return { last: true };
  const m = /^([np])\.(.+)$/.exec(raw);
  if (!m) throw badRequest('Invalid paging cursor');
  const key = decodeKey(m[2]!);
  return m[1] === 'n' ? { after: key } : { before: key };
}

/**
 * self, first, previous and next, and last (a searchset's total is always known here):
 * paging clients and TestScript engines expect first and last beside next and previous.
 */
function links(req: FhirRequest, applied: URLSearchParams, { next, previous }: { next?: SortKey; previous?: SortKey }): BundleLink[] {
  const path = `${req.baseUrl}/${req.path.join('/')}`.replace(/\/$/, '');
  const url = (q: URLSearchParams) => (q.size > 0 ? `${path}?${q.toString()}` : path);
  const withCursor = (cursor: string | undefined) => {
    const q = new URLSearchParams(applied);
    q.delete('_cursor');
    if (cursor) q.set('_cursor', cursor);
    return url(q);
  };
  const out: BundleLink[] = [{ relation: 'self', url: url(applied) }, { relation: 'first', url: withCursor(undefined) }];
  if (previous) out.push({ relation: 'previous', url: withCursor(`p.${encodeKey(previous)}`) });
  if (next) out.push({ relation: 'next', url: withCursor(`n.${encodeKey(next)}`) });
  // Keyset paging: the last page is the last `_count` entries, which need not line up with
  // the pages `next` walks through.
  out.push({ relation: 'last', url: withCursor('last') });
  return out;
}
