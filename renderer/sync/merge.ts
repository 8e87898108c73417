/**
 * Merging versions by hand: the JSON the editor starts from, and the edited text back as a
 * resource (or what is wrong with it in words). Pure; tested in merge.test.ts.
 */
import type { Resource } from '@medplum/fhirtypes';
import { withoutConflictTag } from '../../shared/fhir/sync-tags';

/** The JSON to start a merge from: the version without what the server sets. */
export function mergeStart(r: Resource | undefined): string {
  if (!r) return '';
  const clean = withoutConflictTag(r) as Resource & { meta?: Record<string, unknown> };
  const copy = { ...clean } as Record<string, unknown>;
  if (clean.meta) {
    const meta = { ...clean.meta };
    delete meta.versionId;
    delete meta.lastUpdated;
    if (Object.keys(meta).length > 0) copy.meta = meta;
    else delete copy.meta;
  }
  return JSON.stringify(copy, null, 2);
}

/** The text as a resource of the right type and id, or what is wrong with it in words. */
export function parseMerge(text: string, type: string, id: string): { resource: Resource } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { problem: `This is not valid JSON: ${(e as Error).message}` };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'This must be one JSON object: the whole record.' };
  const r = parsed as Resource;
  if (r.resourceType !== type) return { problem: `"resourceType" must stay "${type}".` };
  if (r.id !== undefined && r.id !== id) return { problem: `"id" must stay "${id}".` };
  return { resource: { ...r, id } as Resource };
}
