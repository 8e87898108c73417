/**
 * FHIR's JSON rules that the structural validator does not check itself
 * (https://hl7.org/fhir/R4/json.html): a property is never an empty object, an empty
 * array or an empty string. (Nulls, unknown properties and `[{}]` it reports already;
 * `null` stays allowed inside the arrays of a repeating primitive and its `_` twin, where
 * it keeps the two aligned.) Paths are FHIRPath-like, as the validator's: `Patient.name[0]`.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

const issue = (what: string, path: string): OperationOutcomeIssue => ({
  severity: 'error',
  code: 'structure',
  diagnostics: `Invalid empty ${what} (FHIR JSON has no empty values)`,
  expression: [path],
});

export function emptyValueIssues(resource: unknown): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  const root = resource as { resourceType?: unknown };
  walk(resource, typeof root.resourceType === 'string' ? root.resourceType : 'Resource', out, true);
  return out;
}

function walk(value: unknown, path: string, out: OperationOutcomeIssue[], top = false): void {
  if (value === '') {
    out.push(issue('string', path));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(issue('array', path));
    value.forEach((v, i) => walk(v, `${path}[${i}]`, out));
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  // `[{}]` and the resource itself are the structural validator's to report.
  if (entries.length === 0 && !top && !/\]$/.test(path)) out.push(issue('object', path));
  for (const [key, v] of entries) {
    // A contained resource's paths start again from its type, as the validator's do.
    walk(v, `${path}.${key}`, out);
  }
}
