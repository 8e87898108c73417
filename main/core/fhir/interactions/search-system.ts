/**
 * search-system: GET [base]?_type=A,B&... (and POST [base]/_search). Without `_type` every
 * resource type is searched; parameters must then mean the same on every type searched
 * (`_id`, `_lastUpdated`, `_tag`, ...), others are ignored (or 400 when strict).
 */
import { badRequest } from '../../../../shared/fhir/outcome';
import { searchBundle } from '../search-bundle';
import { safeName } from '../resource-input';
import { respond } from '../types';
import type { Handler } from './route';
import { searchQuery } from './search-type';

export const searchSystem: Handler = async (req, ctx) => {
  const query = searchQuery(req);
  const listed = (query.get('_type') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of listed) if (!ctx.defs.isResourceType(t)) throw badRequest(`_type names an unknown resource type '${safeName(t)}'`);
  const types = listed.length > 0 ? [...new Set(listed)] : ctx.defs.resourceTypes;
  return respond(200, await searchBundle(req, ctx, query, { types }));
};
