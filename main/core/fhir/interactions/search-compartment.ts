/**
 * Compartment search: GET [compartment]/[id]/[type]?... and [compartment]/[id]/*?...
 * (POST .../_search too): a type search restricted to the members of one compartment
 * (search/compartments.ts). An unknown compartment or a type that is never in it is 404.
 */
import { notFound } from '../../../../shared/fhir/outcome';
import { requireId, safeName } from '../resource-input';
import { searchBundle } from '../search-bundle';
import { respond } from '../types';
import type { Handler } from './route';
import { searchQuery } from './search-type';

export const searchCompartment: Handler = async (req, ctx, { type = '', id = '', target = '' }) => {
  requireId(id);
  if (!ctx.compartments.types.includes(type)) throw notFound(`'${type}' is not a compartment this server supports`);
  const members = ctx.compartments.memberTypes(type);
  const types = target === '*' ? members : [target];
  if (target !== '*' && !members.includes(target)) {
    throw notFound(`'${safeName(target)}' resources are never in the ${type} compartment`);
  }
  const scope = (t: string) => {
    const m = ctx.compartments.membership(type, id, t);
    return m ? [m] : [];
  };
  return respond(200, await searchBundle(req, ctx, searchQuery(req), { types, scope }));
};
