/**
 * delete: DELETE [type]/[id], and conditional delete DELETE [type]?criteria, which
 * deletes every match in one atomic commit (conditionalDelete = multiple).
 * Deleting what is absent or already deleted succeeds and writes nothing.
 */
import { allOk } from '../../../../shared/fhir/outcome';
import type { HeadDoc } from '../../store/documents';
import { lockKey } from '../../store/resource-store';
import { criteriaOf, findByCriteria } from '../conditional';
import { etagOf } from '../representation';
import { requireId } from '../resource-input';
import { respond } from '../types';
import { planDelete } from '../write-plan';
import type { Handler } from './route';

export const remove: Handler = async (req, ctx, { type = '', id = '' }) => {
  requireId(id);
  return ctx.store.locks.resources([lockKey(type, id)], async () => {
    const head = await ctx.store.head(type, id);
    const plan = planDelete(type, id, head, req.headers['if-match']);
    if (!plan) return respond(204);
    const [rec] = await ctx.store.commit([plan.write], new Map([[lockKey(type, id), head!]]));
    return respond(200, allOk(`Deleted ${type}/${id}`), { ETag: etagOf(rec!.vid) });
  });
};

export const conditionalRemove: Handler = async (req, ctx, { type = '' }) =>
  ctx.store.locks.exclusive(async () => {
    const matches = await findByCriteria(ctx, type, criteriaOf(req.query));
    if (matches.length === 0) return respond(204);
    const heads = new Map<string, HeadDoc>(matches.map((h) => [lockKey(type, h.id), h]));
    const writes = matches.map((h) => planDelete(type, h.id, h)!.write);
    await ctx.store.commit(writes, heads);
    return respond(200, allOk(`Deleted ${matches.length} ${type} resource(s)`));
  });
