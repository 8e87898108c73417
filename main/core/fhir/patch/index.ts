/**
 * The PATCH interaction's body, chosen by Content-Type as FHIR R4 (http.html#patch)
 * defines it: JSON Patch, or FHIRPath Patch carried in a Parameters resource. XML Patch
 * is not offered because Flint speaks JSON only.
 */
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { unsupportedMediaType } from '../../../../shared/fhir/outcome';
import { applyFhirPathPatch } from './fhirpath-patch';
import { applyJsonPatch } from './json-patch';
import { isPlainObject } from './patch-json';

export { applyFhirPathPatch } from './fhirpath-patch';
export { applyJsonPatch } from './json-patch';

/** The media type alone, lower-cased: parameters such as charset do not change the format. */
function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Applies `body` to a copy of `resource` in the format `contentType` names, with the exact texts of its decimals. */
export function applyPatch(resource: Resource, contentType: string, body: unknown): Resource {
  const type = mediaType(contentType);
  if (type === 'application/json-patch+json') return applyJsonPatch(resource, body);
  if ((type === 'application/fhir+json' || type === 'application/json') && isParameters(body)) {
    return applyFhirPathPatch(resource, body);
  }
  // RFC 5789 s2.2: a patch document format the server does not support is a 415. That
  // includes a FHIR JSON body that is not Parameters (e.g. a partial resource, which is
  // merge-patch, not a FHIR patch format) and a JSON Patch array sent as plain JSON.
  throw unsupportedMediaType(
    'PATCH accepts application/json-patch+json (JSON Patch) or a Parameters resource as application/fhir+json (FHIRPath Patch)',
  );
}

function isParameters(body: unknown): body is Parameters {
  return isPlainObject(body) && body.resourceType === 'Parameters';
}
