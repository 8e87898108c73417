/**
 * create: POST [type], and conditional create with If-None-Exist. The conditional form
 * runs under the store's exclusive write lock, so concurrent identical conditional
 * creates cannot both see "no match" (the race HAPI and the Microsoft server had).
 */
import { multipleMatches } from '../../../../shared/fhir/outcome';
import { findByCriteria } from '../conditional';
import { versionHeaders, writeResponse } from '../representation';
import { validResource } from '../resource-input';
import { respond } from '../types';
import { planCreate } from '../write-plan';
import type { Handler } from './route';

export const create: Handler = async (req, ctx, { type = '' }) => {
  // The server assigns the id; an id in the body is ignored (R4 3.1.0.8).
  const resource = validResource(ctx, req.body, type);
  const ifNoneExist = req.headers['if-none-exist'];
  if (ifNoneExist === undefined) {
    const plan = planCreate(type, resource);
    const [rec] = await ctx.store.locks.resources([`${type}/${plan.write.id}`], () => ctx.store.commit([plan.write], new Map()));
    return writeResponse(req, 201, rec!);
  }
  return ctx.store.locks.exclusive(async () => {
    const matches = await findByCriteria(ctx, type, ifNoneExist.replace(/^[^?]*\?/, ''));
    if (matches.length > 1) throw multipleMatches('If-None-Exist matches more than one resource');
    const existing = matches[0];
    if (existing?.resource) {
      return respond(200, existing.resource, versionHeaders(existing, req.baseUrl, true));
    }
    const [rec] = await ctx.store.commit([planCreate(type, resource).write], new Map());
    return writeResponse(req, 201, rec!);
  });
};
