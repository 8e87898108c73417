/** Resolving the search criteria of conditional interactions to matching resources. */
import { badRequest } from '../../../shared/fhir/outcome';
import { parseCriteria, RESULT_PARAMS } from '../search/criteria';
import type { HeadDoc } from '../store/documents';
import type { FhirContext } from './context';
import { safeName } from './resource-input';

/**
 * Current resources of `type` matching `criteria` (a query string without '?').
 * Unsupported parameters are an error here, never ignored: ignoring one would widen the
 * match and write to the wrong resources.
 */
export async function findByCriteria(ctx: FhirContext, type: string, criteria: string | URLSearchParams): Promise<HeadDoc[]> {
  const query = typeof criteria === 'string' ? new URLSearchParams(criteria) : criteria;
  const { filters, unsupported } = parseCriteria(ctx.defs, type, query);
  if (unsupported.length > 0) {
    throw badRequest(`Conditional criteria use parameters this server cannot evaluate: ${unsupported.map(safeName).join(', ')}`);
  }
  if (filters.length === 0) throw badRequest('Conditional criteria are empty: give at least one search parameter');
  const ids = ctx.search.matchIds(type, filters);
  const heads = await ctx.store.heads(ids.map((id) => ({ type, id })));
  return ids.map((id) => heads.get(`${type}/${id}`)).filter((h): h is HeadDoc => !!h && !h.deleted);
}

/** The criteria part of a conditional request URL, without result parameters. */
export function criteriaOf(query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of query) if (!RESULT_PARAMS.has(k)) out.append(k, v);
  return out;
}
