/**
 * FHIRPath results as (FHIR type, JSON value) pairs. Evaluating with
 * resolveInternalTypes:false keeps fhirpath's ResourceNode wrappers, whose
 * fhirNodeDataType tells a `date` from a `string` and a Quantity from a Range; plain JSON
 * would lose that for primitives and choice types.
 */
export interface FhirValue {
  /** FHIR type name (`dateTime`, `CodeableConcept`, ...), or a guess from the JS value. */
  type: string;
  value: unknown;
  /** Path of the node (`Observation.component`), the base for composite components. */
  path: string | null;
}

interface NodeLike {
  data?: unknown;
  fhirNodeDataType?: string;
  path?: string;
}

export function toValues(results: readonly unknown[]): FhirValue[] {
  const out: FhirValue[] = [];
  for (const r of results) {
    if (r === null || r === undefined) continue;
    if (typeof r === 'object' && 'data' in r && ('fhirNodeDataType' in r || 'path' in r)) {
      const node = r as NodeLike;
      // A primitive carrying only an extension (`_birthDate`) has no value to index.
      if (node.data === null || node.data === undefined) continue;
      const type = node.fhirNodeDataType ?? guessType(node.data);
      out.push({ type, value: plain(type, node.data), path: node.path ?? null });
    } else if (typeof r === 'object' && !Array.isArray(r) && r.constructor !== Object) {
      // fhirpath's own types (FP_DateTime, FP_Decimal...) print as their FHIR literal.
      out.push({ type: 'string', value: String(r), path: null });
    } else {
      out.push({ type: guessType(r), value: r, path: null });
    }
  }
  return out;
}

const NUMERIC = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);

/** Numeric primitives arrive as fhirpath FP_Decimal objects; rows want JS numbers. */
function plain(type: string, data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data) || data.constructor === Object) return data;
  const text = String(data);
  return NUMERIC.has(type) ? Number(text) : text;
}

function guessType(v: unknown): string {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'decimal';
  if (typeof v === 'string') return 'string';
  return 'Element';
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}
