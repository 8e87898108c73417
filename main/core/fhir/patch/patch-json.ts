/**
 * Small JSON helpers shared by both patch formats: copying, FHIR-JSON tidying after an
 * edit, and the guard that a patch never changes which resource it is.
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../../../shared/fhir/outcome';

export type JsonObject = Record<string, unknown>;

/** True only for object literals (not arrays, nor fhirpath.js wrapper classes like FP_Decimal). */
export function isPlainObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Deep copy; resources and patch bodies come from JSON, so structuredClone is exact. */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}

/** The id and resourceType identify the resource being patched; a patch may not move it. */
export function assertIdentityKept(before: Resource, after: JsonObject): void {
  if (after.resourceType !== before.resourceType) throw badRequest('Patch must not change resourceType');
  if (after.id !== before.id) throw badRequest('Patch must not change the resource id');
}

const isBlank = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (isPlainObject(v) && Object.keys(v).length === 0);

/**
 * Removes what FHIR JSON forbids and deletions leave behind: empty objects and arrays,
 * and list entries whose value and `_name` companion are both empty. Value/companion
 * arrays are trimmed together so they stay index-aligned.
 */
export function pruneEmpty(obj: JsonObject): void {
  for (const v of Object.values(obj)) {
    if (isPlainObject(v)) pruneEmpty(v);
    else if (Array.isArray(v)) for (const x of v) if (isPlainObject(x)) pruneEmpty(x);
  }
  const bases = new Set(Object.keys(obj).map((k) => (k.startsWith('_') ? k.slice(1) : k)));
  for (const k of bases) {
    const val = obj[k];
    const ext = obj[`_${k}`];
    if (Array.isArray(val) || Array.isArray(ext)) {
      const vals = Array.isArray(val) ? val : [];
      const exts = Array.isArray(ext) ? ext : [];
      const keep: number[] = [];
      for (let i = 0; i < Math.max(vals.length, exts.length); i++) {
        if (!isBlank(vals[i]) || !isBlank(exts[i])) keep.push(i);
      }
      if (Array.isArray(val)) obj[k] = keep.map((i) => (isBlank(vals[i]) ? null : vals[i]));
      if (Array.isArray(ext)) obj[`_${k}`] = keep.map((i) => (isBlank(exts[i]) ? null : exts[i]));
    }
    // A value list of only nulls is still needed when its companion carries extensions.
    if (isBlank(obj[`_${k}`]) || (Array.isArray(obj[`_${k}`]) && (obj[`_${k}`] as unknown[]).every(isBlank))) {
      delete obj[`_${k}`];
    }
    if (isBlank(obj[k]) || (Array.isArray(obj[k]) && !(`_${k}` in obj) && (obj[k] as unknown[]).every(isBlank))) {
      delete obj[k];
    }
  }
}
