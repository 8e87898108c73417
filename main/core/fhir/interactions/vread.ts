/** vread: GET [type]/[id]/_history/[vid]. A deleted version answers 410. */
import { gone, notFound } from '../../../../shared/fhir/outcome';
import { isValidId } from '../../../../shared/fhir/ids';
import { shapeResource, versionHeaders } from '../representation';
import { requireId } from '../resource-input';
import { respond } from '../types';
import type { Handler } from './route';

export const vread: Handler = async (req, ctx, { type = '', id = '', vid = '' }) => {
  requireId(id);
  if (!isValidId(vid)) throw notFound('No such version');
  const rec = await ctx.store.version(type, id, vid);
  if (!rec) throw notFound(`${type}/${id} has no version with that id`);
  if (rec.deleted || !rec.resource) throw gone(`${type}/${id} was deleted in this version`);
  return respond(200, shapeResource(rec.resource, req.query, ctx.defs.isSummary), versionHeaders(rec, req.baseUrl));
};
