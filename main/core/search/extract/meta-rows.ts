/**
 * The parameters every resource has, read from id and meta directly rather than through
 * the definitions: they must be indexed even for a type whose definitions lack them, and
 * they are the hottest rows, so they skip FHIRPath.
 */
import { dateRows } from './date-rows';
import type { IndexRows } from './rows';
import { tokenRows } from './token-rows';
import { arr, obj, str } from './values';

export const META_PARAMS: ReadonlySet<string> = new Set(['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source']);

export function addMetaRows(resource: Record<string, unknown>, out: IndexRows): void {
  const id = str(resource.id);
  if (id) {
    out.tokens.push({ param: '_id', system: null, code: id, text: null });
    out.present.add('_id');
  }
  const meta = obj(resource.meta);
  const lastUpdated = str(meta.lastUpdated);
  if (lastUpdated) {
    const rows = dateRows('_lastUpdated', { type: 'instant', value: lastUpdated, path: null });
    out.dates.push(...rows);
    out.present.add('_lastUpdated');
  }
  for (const [key, param] of [
    ['tag', '_tag'],
    ['security', '_security'],
  ] as const) {
    for (const c of arr(meta[key])) {
      out.tokens.push(...tokenRows(param, { type: 'Coding', value: c, path: null }));
      out.present.add(param);
    }
  }
  for (const p of arr(meta.profile)) {
    const uri = str(p);
    if (uri) {
      out.uris.push({ param: '_profile', uri });
      out.present.add('_profile');
    }
  }
  const source = str(meta.source);
  if (source) {
    out.uris.push({ param: '_source', uri: source });
    out.present.add('_source');
  }
}
