/** Checks a request body is a valid resource of the expected type before any write. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, invalidResource, notFound } from '../../../shared/fhir/outcome';
import { isValidId } from '../../../shared/fhir/ids';
import type { FhirContext } from './context';
import { hasErrors } from './validation/validator';

export function requireType(ctx: FhirContext, type: string): void {
  if (!ctx.defs.isResourceType(type)) throw notFound(`Unknown resource type '${safeName(type)}'`);
}

/** Echo a client-supplied name only when it looks like a name (never arbitrary input). */
export function safeName(s: string): string {
  return /^[A-Za-z0-9_\-.$:]{1,64}$/.test(s) ? s : '(invalid)';
}

export function requireId(id: string): void {
  if (!isValidId(id)) throw badRequest('Invalid resource id: ids are 1-64 characters of A-Z, a-z, 0-9, - and .');
}

/**
 * The body as a resource of `type`, validated against the R4 definitions.
 * `urlId`: for update, the id from the URL, which the body's id must equal.
 * `issues`: the validator's verdict when it was computed beforehand (transactions).
 */
export function validResource(
  ctx: FhirContext,
  body: unknown,
  type: string,
  urlId?: string,
  issues?: OperationOutcomeIssue[],
): Resource {
  if (body === undefined || body === null) throw badRequest('A resource body is required');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a JSON object holding a FHIR resource');
  const r = body as Partial<Resource> & Record<string, unknown>;
  if (typeof r.resourceType !== 'string') throw badRequest('The body has no resourceType');
  if (r.resourceType !== type) {
    throw badRequest(`The body's resourceType '${safeName(r.resourceType)}' does not match the URL's '${type}'`);
  }
  if (urlId !== undefined) {
    if (r.id === undefined) throw badRequest('The resource in the body has no id; it must equal the id in the URL');
    if (r.id !== urlId) throw badRequest('The id in the body does not match the id in the URL');
  }
  if (r.id !== undefined && (typeof r.id !== 'string' || !isValidId(r.id))) {
    throw badRequest('Invalid resource id in the body', [`${type}.id`]);
  }
  const verdict = issues ?? ctx.validator.validate(r as Resource);
  if (hasErrors(verdict)) throw invalidResource(verdict);
  return r as Resource;
}
