/** read: GET [type]/[id] (with If-None-Match / If-Modified-Since, _summary, _elements). */
import { gone, notFound } from '../../../../shared/fhir/outcome';
import type { HeadDoc } from '../../store/documents';
import { etagOf, shapeResource, versionHeaders } from '../representation';
import { requireId } from '../resource-input';
import { respond, type FhirRequest, type FhirResponse } from '../types';
import type { Handler } from './route';

export const read: Handler = async (req, ctx, { type = '', id = '' }) => {
  requireId(id);
  const head = await ctx.store.head(type, id);
  if (!head) throw notFound(`${type}/${id} is not known`);
  if (head.deleted || !head.resource) throw gone(`${type}/${id} has been deleted`);
  const notModified = notModifiedResponse(req, head);
  if (notModified) return notModified;
  return respond(200, shapeResource(head.resource, req.query, ctx.defs.isSummary), versionHeaders(head, req.baseUrl));
};

/** 304 when the client's copy is current (If-None-Match wins over If-Modified-Since). */
export function notModifiedResponse(req: FhirRequest, head: HeadDoc): FhirResponse | undefined {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    const tags = inm.split(',').map((t) => t.trim());
    return tags.includes(etagOf(head.vid)) || tags.includes(`"${head.vid}"`) || tags.includes('*')
      ? respond(304, undefined, versionHeaders(head, req.baseUrl))
      : undefined;
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    // HTTP dates have second precision; compare at that precision.
    if (Number.isFinite(since) && Math.floor(Date.parse(head.ts) / 1000) * 1000 <= since) {
      return respond(304, undefined, versionHeaders(head, req.baseUrl));
    }
  }
  return undefined;
}
