/**
 * search-type: GET [type]?... and POST [type]/_search, evaluated on the search index
 * (search/index-search.ts). Results are in id order and paged by an id cursor, so
 * concurrent writes neither repeat nor skip entries. Unsupported parameters: 400 under
 * `Prefer: handling=strict`, otherwise ignored and reported in an OperationOutcome entry.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { badRequest, outcome } from '../../../../shared/fhir/outcome';
import { parseCriteria } from '../../search/criteria';
import { decodeCursor, pageLinks, pageSize } from '../paging';
import { shapeResource } from '../representation';
import { safeName } from '../resource-input';
import { respond, type FhirRequest } from '../types';
import type { Handler } from './route';

export const searchType: Handler = async (req, ctx, { type = '' }) => {
  const query = searchQuery(req);
  const { filters, unsupported } = parseCriteria(ctx.defs, type, query);
  const strict = /handling\s*=\s*strict/i.test(req.headers['prefer'] ?? '');
  if (strict && unsupported.length > 0) {
    throw badRequest(`Unknown or unsupported search parameters: ${unsupported.map(safeName).join(', ')}`);
  }
  const applied = new URLSearchParams();
  for (const [k, v] of query) if (!unsupported.includes(k)) applied.append(k, v);

  const count = pageSize(query, ctx.settings);
  const summaryCount = query.get('_summary') === 'count';
  const after = decodeCursor(query);
  // Ids in id order from the index; the page's resources are read from the store.
  const { ids, total, more } = ctx.search.page(type, filters, after, summaryCount ? 0 : count);
  const pageIds = summaryCount ? [] : ids;
  const heads = await ctx.store.heads(pageIds.map((id) => ({ type, id })));
  const matches: BundleEntry[] = [];
  for (const id of pageIds) {
    const head = heads.get(`${type}/${id}`);
    if (!head?.resource || head.deleted) continue;
    matches.push({
      fullUrl: `${req.baseUrl}/${type}/${id}`,
      resource: shapeResource(head.resource, query, ctx.defs.isSummary),
      search: { mode: 'match' },
    });
  }
  const next = more && pageIds.length > 0 ? pageIds[pageIds.length - 1] : undefined;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total,
    link: pageLinks({ ...req, path: [type], query: applied }, next),
    entry: summaryCount ? [] : matches,
  };
  if (unsupported.length > 0) {
    bundle.entry!.push({
      resource: outcome('warning', 'not-supported', `Ignored unknown or unsupported search parameters: ${unsupported.map(safeName).join(', ')}`),
      search: { mode: 'outcome' },
    });
  }
  if (bundle.entry!.length === 0) delete bundle.entry;
  return respond(200, bundle);
};

/** GET takes the URL query; POST _search takes the form body (plus any URL query). */
function searchQuery(req: FhirRequest): URLSearchParams {
  if (req.method !== 'POST') return req.query;
  const q = new URLSearchParams(req.query);
  if (typeof req.body === 'string') for (const [k, v] of new URLSearchParams(req.body)) q.append(k, v);
  return q;
}
