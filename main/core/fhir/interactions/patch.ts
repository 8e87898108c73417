/** patch: PATCH [type]/[id] and PATCH [type]?criteria, with JSON Patch or FHIRPath Patch. */
import { multipleMatches, notFound } from '../../../../shared/fhir/outcome';
import { lockKey } from '../../store/resource-store';
import { criteriaOf, findByCriteria } from '../conditional';
import { writeResponse } from '../representation';
import { requireId } from '../resource-input';
import type { FhirRequest } from '../types';
import { planPatch } from '../write-plan';
import type { Handler } from './route';

const patchOf = (req: FhirRequest) => ({ contentType: req.contentType ?? '', body: req.body });

export const patch: Handler = async (req, ctx, { type = '', id = '' }) => {
  requireId(id);
  return ctx.store.locks.resources([lockKey(type, id)], async () => {
    const head = await ctx.store.head(type, id);
    const plan = planPatch(ctx, type, id, head, patchOf(req), req.headers['if-match']);
    const [rec] = await ctx.store.commit([plan.write], new Map([[lockKey(type, id), head!]]));
    return writeResponse(req, 200, rec!);
  });
};

export const conditionalPatch: Handler = async (req, ctx, { type = '' }) =>
  ctx.store.locks.exclusive(async () => {
    const matches = await findByCriteria(ctx, type, criteriaOf(req.query));
    if (matches.length > 1) throw multipleMatches('The criteria match more than one resource');
    const head = matches[0];
    if (!head) throw notFound('No resource matches the criteria');
    const plan = planPatch(ctx, type, head.id, head, patchOf(req), req.headers['if-match']);
    const [rec] = await ctx.store.commit([plan.write], new Map([[lockKey(type, head.id), head]]));
    return writeResponse(req, 200, rec!);
  });
