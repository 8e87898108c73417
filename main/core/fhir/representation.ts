/**
 * How a stored version goes back to the client: version headers (ETag, Last-Modified,
 * Location), `Prefer: return=...`, and `_summary` / `_elements` shaping.
 */
import type { Resource } from '@medplum/fhirtypes';
import { carryDecimalTexts } from '../../../shared/fhir/exact-json';
import { allOk, badRequest } from '../../../shared/fhir/outcome';
import type { VersionRecord } from '../store/documents';
import { respond, type FhirRequest, type FhirResponse } from './types';

export const etagOf = (vid: string): string => `W/"${vid}"`;

export function versionHeaders(rec: VersionRecord, baseUrl: string, location = false): Record<string, string> {
  const h: Record<string, string> = {
    ETag: etagOf(rec.vid),
    'Last-Modified': new Date(rec.ts).toUTCString(),
  };
  if (location) h.Location = `${baseUrl}/${rec.type}/${rec.id}/_history/${rec.vid}`;
  return h;
}

export type PreferReturn = 'minimal' | 'representation' | 'OperationOutcome';

export function preferReturn(req: FhirRequest): PreferReturn {
  const prefer = req.headers['prefer'] ?? '';
  const m = /return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(prefer);
  if (!m) return 'representation';
  const v = m[1]!.toLowerCase();
  return v === 'minimal' ? 'minimal' : v === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

/** The response to a successful create/update/patch. */
export function writeResponse(req: FhirRequest, status: number, rec: VersionRecord): FhirResponse {
  const headers = versionHeaders(rec, req.baseUrl, true);
  switch (preferReturn(req)) {
    case 'minimal':
      return respond(status, undefined, headers);
    case 'OperationOutcome':
      return respond(status, allOk(`${rec.method === 'POST' ? 'Created' : 'Updated'} ${rec.type}/${rec.id}`), headers);
    default:
      return respond(status, rec.resource, headers);
  }
}

const SUMMARY_VALUES = new Set(['true', 'false', 'text', 'data', 'count']);
const ALWAYS = new Set(['resourceType', 'id', 'meta']);
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** Applies `_summary` and `_elements` to a resource for reading. */
export function shapeResource(resource: Resource, query: URLSearchParams, isSummary: (type: string, key: string) => boolean): Resource {
  const summary = query.get('_summary');
  const elements = query.get('_elements');
  if (summary && !SUMMARY_VALUES.has(summary)) throw badRequest("_summary must be one of true, false, text, data, count");
  let keep: ((key: string) => boolean) | undefined;
  if (summary === 'true') {
    keep = (k) => isSummary(resource.resourceType, k);
  } else if (summary === 'text') {
    keep = (k) => k === 'text';
  } else if (summary === 'data') {
    keep = (k) => k !== 'text';
  } else if (elements) {
    const set = new Set(elements.split(',').map((e) => e.trim().replace(new RegExp(`^${resource.resourceType}\\.`), '')));
    keep = (k) => set.has(k) || (k.startsWith('_') && set.has(k.slice(1)));
  }
  if (!keep) return resource;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) if (ALWAYS.has(k) || keep(k)) out[k] = v;
  const meta = (out.meta ?? {}) as Record<string, unknown>;
  const tags = Array.isArray(meta.tag) ? meta.tag : [];
  out.meta = { ...meta, tag: [...tags, SUBSETTED] };
  return carryDecimalTexts(resource, out) as unknown as Resource;
}
