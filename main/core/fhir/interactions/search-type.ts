/**
 * search-type: GET [type]?... and POST [type]/_search. Until the persistent search
 * index (next issue) lands, this scans the heads of the type in id order and evaluates
 * the criteria the scan matcher supports; paging is by id cursor, so concurrent writes
 * neither repeat nor skip entries. Unsupported parameters: 400 under
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
  const matches: BundleEntry[] = [];
  let total = 0;
  let afterCursor = 0;
  let lastId: string | undefined;
  for await (const head of ctx.store.scanHeads(type)) {
    if (!head.resource || !ctx.matcher.matches(head.resource, filters)) continue;
    total++;
    if (summaryCount || (after !== undefined && head.id <= after)) continue;
    afterCursor++;
    if (matches.length < count) {
      matches.push({
        fullUrl: `${req.baseUrl}/${type}/${head.id}`,
        resource: shapeResource(head.resource, query, ctx.defs.isSummary),
        search: { mode: 'match' },
      });
      lastId = head.id;
    }
  }
  const next = afterCursor > matches.length && lastId !== undefined ? lastId : undefined;
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
