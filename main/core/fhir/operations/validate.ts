/**
 * $validate: POST [type]/$validate and POST [type]/[id]/$validate. Takes the resource
 * directly or as Parameters.resource; answers 200 with the OperationOutcome whatever
 * the verdict (the outcome carries it), and stores nothing.
 */
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { allOk, badRequest, outcomeOf } from '../../../../shared/fhir/outcome';
import type { Handler } from '../interactions/route';
import { requireId, safeName } from '../resource-input';
import { respond } from '../types';

export const validate: Handler = async (req, ctx, { type = '', id }) => {
  if (id !== undefined) requireId(id);
  let body = req.body as Resource | undefined;
  if (body?.resourceType === 'Parameters' && type !== 'Parameters') {
    body = (body as Parameters).parameter?.find((p) => p.name === 'resource')?.resource;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('$validate needs a resource in the body');
  if (body.resourceType !== type) {
    throw badRequest(`The resource is a '${safeName(String(body.resourceType))}', not a '${type}'`);
  }
  if (id !== undefined && body.id !== undefined && body.id !== id) throw badRequest('The id in the body does not match the URL');
  const issues = ctx.validator.validate(body);
  return respond(200, issues.length > 0 ? outcomeOf(issues) : allOk('No issues found'));
};
