/**
 * update: PUT [type]/[id] (update-as-create when the id is new) and conditional update
 * PUT [type]?criteria (0 matches: create; 1: update it; more: 412).
 */
import { badRequest, multipleMatches } from '../../../../shared/fhir/outcome';
import { criteriaOf, findByCriteria } from '../conditional';
import { writeResponse } from '../representation';
import { requireId, validResource } from '../resource-input';
import { newId, planUpdate } from '../write-plan';
import type { Handler } from './route';

export const update: Handler = async (req, ctx, { type = '', id = '' }) => {
  requireId(id);
  const resource = validResource(ctx, req.body, type, id);
  const preconditions = { ifMatch: req.headers['if-match'], ifNoneMatch: req.headers['if-none-match'] };
  return ctx.store.locks.resources([`${type}/${id}`], async () => {
    const head = await ctx.store.head(type, id);
    const plan = planUpdate(type, id, resource, head, preconditions);
    const heads = head ? new Map([[`${type}/${id}`, head]]) : new Map();
    const [rec] = await ctx.store.commit([plan.write], heads);
    return writeResponse(req, plan.status, rec!);
  });
};

export const conditionalUpdate: Handler = async (req, ctx, { type = '' }) => {
  const resource = validResource(ctx, req.body, type);
  return ctx.store.locks.exclusive(async () => {
    const matches = await findByCriteria(ctx, type, criteriaOf(req.query));
    if (matches.length > 1) throw multipleMatches('The criteria match more than one resource');
    const match = matches[0];
    if (match && resource.id !== undefined && resource.id !== match.id) {
      throw badRequest('The id in the body differs from the id of the resource the criteria match');
    }
    const id = match?.id ?? resource.id ?? newId();
    const head = match ?? (await ctx.store.head(type, id));
    const plan = planUpdate(type, id, resource, head, { ifMatch: req.headers['if-match'] });
    const heads = head ? new Map([[`${type}/${id}`, head]]) : new Map();
    const [rec] = await ctx.store.commit([plan.write], heads);
    return writeResponse(req, plan.status, rec!);
  });
};
