/**
 * The kick-off request of a bulk export (FHIR Bulk Data Access 2.0, "Bulk Data Kick-off
 * Request"), parsed and checked before any job starts: every problem is a 400
 * OperationOutcome naming the parameter, and nothing is started.
 *
 *   _outputFormat          application/fhir+ndjson (or its short forms); nothing else
 *   _since                 an instant: only resources last updated after it
 *   _type                  resource types, comma-separated
 *   _elements              elements to keep ([Type.]element, comma-separated); the rest
 *                          is left out and the resource is marked SUBSETTED
 *   _typeFilter            Type?search, repeated or comma-separated: only matches of
 *                          the type (several for one type are OR-ed)
 *   patient                (POST, Patient and Group levels) only these patients
 *   includeAssociatedData  LatestProvenanceResources or RelevantProvenanceResources: the
 *                          Provenance whose target is an exported resource (the latest
 *                          per resource, or all); other values 400, or ignored with
 *                          Prefer: handling=lenient
 * GET takes them in the query; POST in a Parameters resource.
 */
import { badRequest } from '../../../shared/fhir/outcome';
import type { Definitions } from '../fhir/definitions';
import { dateRange } from '../fhir/fhir-dates';
import { safeName } from '../fhir/resource-input';
import type { FhirRequest } from '../fhir/types';

export type ExportLevel = 'system' | 'patient' | 'group';

export interface ExportRequest {
  level: ExportLevel;
  /** The Group whose members are exported (group level). */
  groupId?: string;
  /** Resource types to export; undefined: every type the level covers. */
  types?: string[];
  /** Only resources last updated after this instant (ms since the epoch). */
  since?: number;
  /** Per type, search queries of which a resource must match one. */
  typeFilters: Map<string, URLSearchParams[]>;
  /** Elements to keep, by type ('*' for every type); undefined: whole resources. */
  elements?: Map<string, Set<string>>;
  /** Patient ids to confine a patient or group export to (POST `patient`). */
  patients?: string[];
  /**
   * includeAssociatedData: the Provenance resources whose `target` is an exported resource,
   * the most recent per resource (`latest`) or every one (`relevant`).
   */
  associated?: 'latest' | 'relevant';
  /** `Prefer: handling=lenient`: what is not supported is ignored, and said so in the manifest. */
  lenient: boolean;
  /** What was ignored (lenient), in words, for the manifest's error file. */
  ignored: string[];
}

const FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const KNOWN = new Set(['_outputFormat', '_since', '_type', '_elements', '_typeFilter', 'patient', 'includeAssociatedData']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The parameters of a kick-off, from the query (GET) or a Parameters body (POST). */
function parametersOf(req: FhirRequest): Array<[string, string]> {
  const out: Array<[string, string]> = [...req.query].filter(([k]) => !k.startsWith('_format') && k !== '_pretty');
  if (req.method !== 'POST' || req.body === undefined) return out;
  const body = req.body as { resourceType?: unknown; parameter?: unknown };
  if (body.resourceType !== 'Parameters') throw badRequest('A POST kick-off takes a Parameters resource');
  for (const p of Array.isArray(body.parameter) ? (body.parameter as Array<Record<string, unknown>>) : []) {
    if (typeof p.name !== 'string') throw badRequest('Every parameter needs a name');
    const ref = p.valueReference as { reference?: unknown } | undefined;
    const value = typeof ref?.reference === 'string' ? ref.reference : Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
    if (typeof value !== 'string' && typeof value !== 'boolean') throw badRequest(`Parameter '${safeName(p.name)}' needs a value`);
    out.push([p.name, String(value)]);
  }
  return out;
}

export function parseExportRequest(req: FhirRequest, defs: Definitions, level: ExportLevel, groupId?: string): ExportRequest {
  const lenient = /handling\s*=\s*lenient/i.test(req.headers.prefer ?? '');
  const params = parametersOf(req);
  const out: ExportRequest = { level, typeFilters: new Map(), lenient, ignored: [], ...(groupId ? { groupId } : {}) };
  const types: string[] = [];
  for (const [name, value] of params) {
    if (!KNOWN.has(name)) {
      if (lenient) {
        out.ignored.push(`the parameter '${safeName(name)}' is not supported and was ignored`);
        continue;
      }
      throw badRequest(`$export does not take '${safeName(name)}'`);
    }
    if (name === '_outputFormat' && !FORMATS.has(value.trim())) throw badRequest('_outputFormat must be application/fhir+ndjson');
    if (name === '_since') {
      if (!INSTANT.test(value)) throw badRequest('_since must be a FHIR instant, e.g. 2026-01-01T00:00:00Z');
      out.since = dateRange(value, '_since').start;
      if (out.since > Date.now()) throw badRequest('_since is in the future');
    }
    if (name === '_type') {
      for (const t of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!defs.isResourceType(t)) throw badRequest(`_type names an unknown resource type '${safeName(t)}'`);
        if (!types.includes(t)) types.push(t);
      }
    }
    if (name === '_elements') out.elements = elementsOf(defs, value, out.elements);
    if (name === '_typeFilter') {
      for (const filter of splitFilters(value)) {
        const q = filter.indexOf('?');
        const type = q < 0 ? filter : filter.slice(0, q);
        if (q < 0 || !defs.isResourceType(type)) throw badRequest(`_typeFilter must be Type?query, not '${safeName(filter)}'`);
        const list = out.typeFilters.get(type) ?? [];
        list.push(new URLSearchParams(filter.slice(q + 1)));
        out.typeFilters.set(type, list);
      }
    }
    if (name === 'patient') {
      if (level === 'system') throw badRequest("'patient' is a parameter of Patient and Group exports");
      const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(value);
      if (!m) throw badRequest(`'patient' must be a reference to a Patient, not '${safeName(value)}'`);
      (out.patients ??= []).push(m[1]!);
    }
    if (name === 'includeAssociatedData') {
      for (const code of value.split(',').map((c) => c.trim()).filter(Boolean)) {
        // Relevant (every Provenance) covers Latest when both are asked for.
        if (code === 'RelevantProvenanceResources') out.associated = 'relevant';
        else if (code === 'LatestProvenanceResources') out.associated = out.associated ?? 'latest';
        else if (lenient) out.ignored.push(`includeAssociatedData '${safeName(code)}' is not supported and was ignored`);
        else throw badRequest(`includeAssociatedData takes LatestProvenanceResources or RelevantProvenanceResources, not '${safeName(code)}' (send Prefer: handling=lenient to have it ignored)`);
      }
    }
  }
  if (types.length > 0) out.types = types;
  return out;
}

/**
 * `_typeFilter` values may be repeated or comma-separated, and a query may hold commas of
 * its own (OR-ed values): a comma starts a new filter only where a resource type and `?`
 * follow it.
 */
function splitFilters(value: string): string[] {
  return value
    .split(/,(?=[A-Z][A-Za-z]+\?)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function elementsOf(defs: Definitions, value: string, into = new Map<string, Set<string>>()): Map<string, Set<string>> {
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const dot = item.indexOf('.');
    const type = dot < 0 ? '*' : item.slice(0, dot);
    const element = dot < 0 ? item : item.slice(dot + 1);
    if ((type !== '*' && !defs.isResourceType(type)) || !/^[a-z][A-Za-z0-9]*(\[x\])?$/.test(element)) {
      throw badRequest(`_elements takes [Type.]element names, not '${safeName(item)}'`);
    }
    const set = into.get(type) ?? new Set<string>();
    set.add(element.replace('[x]', ''));
    into.set(type, set);
  }
  return into;
}
