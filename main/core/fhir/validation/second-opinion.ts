/** Helpers for re-checking Medplum's verdicts (compiled/medplum-reference.ts: the differential test's reference and the benchmark's baseline). */
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';

/** Map of invariant key -> FHIRPath expression, from every element of every definition. */
export function constraintExpressions(bundles: Bundle<StructureDefinition>[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of bundles) {
    for (const e of b.entry ?? []) {
      for (const el of e.resource?.snapshot?.element ?? []) {
        for (const c of el.constraint ?? []) {
          if (c.key && c.expression && !out.has(c.key)) out.set(c.key, c.expression);
        }
      }
    }
  }
  return out;
}

/**
 * Resolves an expression like `DiagnosticReport.presentedForm[0].data` (the shape the
 * validator reports) to the JSON value at that place, or undefined.
 */
export function resolveSimplePath(resource: Resource, path: string): unknown {
  const parts = path.split('.');
  if (parts[0] !== resource.resourceType) return undefined;
  let node: unknown = resource;
  for (const part of parts.slice(1)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(part);
    if (!m || node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[m[1] as string];
    if (m[2] !== undefined) node = Array.isArray(node) ? node[Number(m[2])] : undefined;
  }
  return node;
}

/** True only when fhirpath.js evaluates the invariant on the node to exactly `false`. */
export function evaluatesToFalse(resource: Resource, node: unknown, expression: string): boolean {
  try {
    const result = fhirpath.evaluate(
      node as object,
      expression,
      { resource, rootResource: resource },
      r4model,
    ) as unknown[];
    return result.length === 1 && result[0] === false;
  } catch {
    // If the reference engine cannot evaluate it, keep the original verdict.
    return true;
  }
}
