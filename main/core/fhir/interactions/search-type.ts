/**
 * search-type: GET [type]?... and POST [type]/_search (form body), evaluated on the
 * search index (fhir/search-bundle.ts does the work).
 */
import { searchBundle } from '../search-bundle';
import { respond, type FhirRequest } from '../types';
import type { Handler } from './route';

export const searchType: Handler = async (req, ctx, { type = '' }) =>
  respond(200, await searchBundle(req, ctx, searchQuery(req), { types: [type] }));

/** GET takes the URL query; POST _search takes the form body (plus any URL query). */
export function searchQuery(req: FhirRequest): URLSearchParams {
  if (req.method !== 'POST') return req.query;
  const q = new URLSearchParams(req.query);
  if (typeof req.body === 'string') for (const [k, v] of new URLSearchParams(req.body)) q.append(k, v);
  return q;
}
