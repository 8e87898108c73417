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
  processed: number;
  params: CustomParam[];
  skipped: Skipped[];
}

/** Rebuilds the index with the store's active custom parameters; returns the definitions to serve. */
export async function reindex(
  search: SearchIndex,
  db: PouchDB.Database,
  base: Definitions,
  onProgress?: (processed: number) => void,
): Promise<ReindexResult> {
  const { params, skipped } = await readCustomParams(db, base);
  const defs = withCustomParams(base, params);
  search.useDefinitions(defs);
  const processed = await search.indexer.rebuild((p) => onProgress?.(p.processed), params);
  return { defs, processed, params, skipped };
}
