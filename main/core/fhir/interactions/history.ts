/**
 * history at instance, type and system level: GET [type]/[id]/_history,
 * GET [type]/_history, GET _history, with _since, _at, _count and cursor paging.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { notFound } from '../../../../shared/fhir/outcome';
import type { VersionRecord } from '../../store/documents';
import { dateRange } from '../fhir-dates';
import { decodeCursor, pageLinks, pageSize } from '../paging';
import { etagOf } from '../representation';
import { requireId } from '../resource-input';
import { respond, type FhirRequest } from '../types';
import type { Handler } from './route';

export const history: Handler = async (req, ctx, { type, id }) => {
  if (id !== undefined) requireId(id);
  const scope: { type?: string; id?: string } = {};
  if (type) scope.type = type;
  if (id) scope.id = id;
  let versions = await ctx.store.history(scope);
  if (id !== undefined && versions.length === 0) throw notFound(`${type}/${id} is not known`);
  versions = filterByTime(versions, req.query);
  const total = versions.length;
  const after = decodeCursor(req.query);
  if (after !== undefined) versions = versions.filter((v) => sortKey(v) < after);
  const count = pageSize(req.query, ctx.settings);
  const page = versions.slice(0, count);
  const next = versions.length > count && page.length > 0 ? sortKey(page[page.length - 1]!) : undefined;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: pageLinks(req, next),
    entry: page.map((v) => historyEntry(req, v)),
  };
  return respond(200, bundle);
};

/** Newest first; ties broken by the version's address, so the order is total. */
const sortKey = (v: VersionRecord): string => `${v.ts}|${v.type}/${v.id}/${v.vid}`;

function filterByTime(versions: VersionRecord[], query: URLSearchParams): VersionRecord[] {
  let out = versions;
  const since = query.get('_since');
  if (since !== null) {
    const start = dateRange(since, '_since').start;
    out = out.filter((v) => Date.parse(v.ts) >= start);
  }
  const at = query.get('_at');
  if (at !== null) {
    // Versions current at some point in the period: written before its end and not
    // replaced before its start. `versions` is newest first, so the successor of a
    // version of the same resource was seen just before it.
    const { start, end } = dateRange(at, '_at');
    const successorTs = new Map<string, number>();
    out = out.filter((v) => {
      const key = `${v.type}/${v.id}`;
      const replacedAt = successorTs.get(key);
      successorTs.set(key, Date.parse(v.ts));
      return Date.parse(v.ts) < end && (replacedAt === undefined || replacedAt > start);
    });
  }
  return out;
}

function historyEntry(req: FhirRequest, v: VersionRecord): BundleEntry {
  const entry: BundleEntry = {
    fullUrl: `${req.baseUrl}/${v.type}/${v.id}`,
    request: {
      method: v.method === 'PATCH' ? 'PATCH' : v.method,
      url: v.method === 'POST' ? v.type : `${v.type}/${v.id}`,
    },
    response: {
      status: v.deleted ? '204' : v.n === 1 ? '201' : '200',
      etag: etagOf(v.vid),
      lastModified: v.ts,
    },
  };
  if (v.resource) entry.resource = v.resource;
  return entry;
}
