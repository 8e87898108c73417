/**
 * Flint's sync code system (docs/sync.md, "Conflicts"): the tags a read carries while a
 * resource is in conflict, and the tag that marks a possible duplicate as reviewed.
 */
export const SYNC_SYSTEM = 'https://flint.health/fhir/CodeSystem/sync';
/** Added on the way out while the resource has concurrent versions; never stored. */
export const CONFLICT_CODE = 'conflict';
/** Stored: a person confirmed this Patient is not a duplicate of those sharing its identifier. */
export const DUPLICATE_REVIEWED_CODE = 'duplicate-reviewed';

export const CONFLICT_TAG = Object.freeze({ system: SYNC_SYSTEM, code: CONFLICT_CODE, display: 'Edited on two workstations while apart: needs review' });

interface Tagged {
  meta?: { tag?: Array<{ system?: string; code?: string }> };
}

/** The resource without the conflict tag (a client writing back what it read). */
export function withoutConflictTag<T extends Tagged>(resource: T): T {
  const tags = resource.meta?.tag;
  if (!tags?.some((t) => t.system === SYNC_SYSTEM && t.code === CONFLICT_CODE)) return resource;
  const rest = tags.filter((t) => !(t.system === SYNC_SYSTEM && t.code === CONFLICT_CODE));
  const meta = { ...resource.meta };
  if (rest.length > 0) meta.tag = rest;
  else delete meta.tag;
  return { ...resource, meta };
}
