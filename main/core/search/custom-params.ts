/**
 * Custom SearchParameter resources. Creating one stores it like any resource; it becomes
 * searchable only after a reindex (`POST [base]/$reindex` or `flint reindex`), which reads
 * the active ones from the store, rebuilds the index with them and records them in the
 * index, so that restarts keep using exactly the parameters the rows were built with.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { withCustomParams, type CustomParam, type Definitions } from '../fhir/definitions';
import { HEAD_PREFIX, type HeadDoc } from '../store/documents';
import type { SearchIndex } from './open-search-index';
import { PARAM_TYPES } from './params';

/** Why a stored SearchParameter is not used (no PHI: codes and urls only). */
export interface Skipped {
  id: string;
  reason: string;
}

export async function readCustomParams(db: PouchDB.Database, base: Definitions): Promise<{ params: CustomParam[]; skipped: Skipped[] }> {
  const prefix = `${HEAD_PREFIX}SearchParameter/`;
  const res = await db.allDocs({ startkey: prefix, endkey: `${prefix}\uffff`, include_docs: true });
  const params: CustomParam[] = [];
  const skipped: Skipped[] = [];
  for (const row of res.rows) {
    const head = row.doc as unknown as HeadDoc | undefined;
    if (!head?.resource || head.deleted) continue;
    const sp = head.resource as SearchParameter;
    const why = unusable(sp, base);
    if (why) {
      skipped.push({ id: head.id, reason: why });
      continue;
    }
    params.push({
      url: sp.url ?? '',
      code: sp.code!,
      base: [...(sp.base as string[])],
      type: sp.type!,
      expression: sp.expression!,
      target: [...((sp.target as string[] | undefined) ?? [])],
    });
  }
  params.sort((a, b) => (a.url + a.code < b.url + b.code ? -1 : 1));
  return { params, skipped };
}

function unusable(sp: SearchParameter, base: Definitions): string | undefined {
  if (sp.status !== 'active') return 'status is not active';
  if (!sp.code || !sp.type || !sp.expression || !sp.base?.length) return 'code, type, base and expression are required';
  if (!PARAM_TYPES[sp.type] || sp.type === 'composite') return `type '${sp.type}' is not searchable here as a custom parameter`;
  const bases = sp.base as string[];
  if (bases.some((b) => b !== 'Resource' && b !== 'DomainResource' && !base.isResourceType(b))) return 'base names an unknown type';
  if (bases.every((b) => base.isResourceType(b) && base.searchParams(b).has(sp.code!))) return 'its code is an official parameter of its base';
  try {
    compile(sp.expression, r4);
  } catch {
    return 'the expression is not valid FHIRPath';
  }
  return undefined;
}


export interface ReindexResult {
  defs: Definitions;
  /** Changes (store documents) read from the feed. */
  processed: number;
  /** Resources in the index afterwards. */
  resources: number;
  params: CustomParam[];
  skipped: Skipped[];
}

/** The resources the index holds now (all types; a count per type on its own index). */
export function indexedResources(index: Pick<SearchIndex['index'], 'count'>, defs: Pick<Definitions, 'resourceTypes'>): number {
  let n = 0;
  for (const type of defs.resourceTypes) n += index.count(type);
  return n;
}

/**
 * Rebuilds the index with the store's active custom parameters; returns the definitions to serve.
 *
 * @param onChanges every page: the changes (store documents) read so far (`flint reindex`
 *   shows these against the store's update sequence).
 * @param onProgress every page: the resources indexed so far and the resources expected,
 *   i.e. those the index held before the rebuild (cheap to count, and exactly what the
 *   rebuild ends with unless writes or a stale index change it; never below `processed`).
 */
export async function reindex(
  search: SearchIndex,
  db: PouchDB.Database,
  base: Definitions,
  onChanges?: (changes: number) => void,
  onProgress?: (processed: number, total: number) => void,
): Promise<ReindexResult> {
  const { params, skipped } = await readCustomParams(db, base);
  const defs = withCustomParams(base, params);
  let total = onProgress ? indexedResources(search.index, base) : 0;
  onProgress?.(0, total);
  search.useDefinitions(defs);
  const processed = await search.indexer.rebuild((p) => {
    onChanges?.(p.processed);
    if (!onProgress) return;
    const done = indexedResources(search.index, base);
    total = Math.max(total, done);
    onProgress(done, total);
  }, params);
  return { defs, processed, resources: indexedResources(search.index, base), params, skipped };
}
