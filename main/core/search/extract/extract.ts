/**
 * Turns a resource into the index rows of every search parameter of its type, driven by
 * the R4 definitions (no per-resource lists). Pure apart from caches: the same resource
 * always gives the same rows. It never throws on odd data: an expression that fails on a
 * resource gives that parameter no rows and is counted in `failures`, so tests can hold
 * failures to a rare few.
 */
import type { Definitions } from '../../fhir/definitions';
import { loadCompositeDefs, type CompositeDefs, type CompositePart } from './composite-defs';
import { ExpressionCache } from './expressions';
import { addMetaRows, META_PARAMS } from './meta-rows';
import { numberTextsOf, type NumberTexts } from './number-rows';
import { emptyRows, type CompositeComponent, type IndexRows, type SimpleParamType } from './rows';
import { appendRows, rowsOf } from './value-rows';
import { toValues, type FhirValue } from './values';

export interface Extractor {
  extract(resource: unknown): IndexRows;
  /** Failed evaluations per `ResourceType.code` since the extractor was created. */
  readonly failures: ReadonlyMap<string, number>;
}

export interface ExtractorOptions {
  /** Composite components; read from the R4 definitions bundle when not given. */
  composites?: CompositeDefs;
}

const SIMPLE = new Set<string>(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);
const REFERENCE_TYPES = new Set(['Reference', 'canonical', 'uri', 'url', 'string', 'oid', 'uuid']);

/**
 * Values a reference param can point with. Others do not count as present: choice
 * elements (Consent.source is also an Attachment), and `Bundle.entry[0].resource`, which
 * is the bundle's composition or message only when it has the target type.
 */
function referenceable(v: FhirValue, targets: readonly string[]): boolean {
  if (REFERENCE_TYPES.has(v.type)) return true;
  const resourceType = (v.value as { resourceType?: unknown } | null)?.resourceType;
  return typeof resourceType === 'string' && (targets.length === 0 || targets.includes(resourceType));
}

export function createExtractor(defs: Definitions, options: ExtractorOptions = {}): Extractor {
  const composites = options.composites ?? loadCompositeDefs();
  const cache = new ExpressionCache();
  const failures = new Map<string, number>();
  const isResourceType = (t: string) => defs.isResourceType(t);

  const fail = (type: string, code: string) => {
    const key = `${type}.${code}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  };

  const compositeRows = (type: string, code: string, parts: CompositePart[], nodes: FhirValue[], resource: object, out: IndexRows, texts?: NumberTexts) => {
    for (const node of nodes) {
      const components: CompositeComponent[] = parts.map((part) => {
        // Component expressions are relative to the element the composite selected.
        const values = toValues(cache.get(part.expression, node.path ?? type)(node.value, { resource }));
        return { param: part.code, type: part.type, rows: values.flatMap((v) => rowsOf(part.type, part.code, v, isResourceType, texts)) };
      });
      if (components.every((c) => c.rows.length > 0)) {
        out.composites.push({ param: code, components });
        out.present.add(code);
      }
    }
  };

  const extract = (resource: unknown): IndexRows => {
    const out = emptyRows();
    if (!resource || typeof resource !== 'object' || Array.isArray(resource)) return out;
    const r = resource as Record<string, unknown>;
    const type = r.resourceType;
    if (typeof type !== 'string' || !defs.isResourceType(type)) return out;
    addMetaRows(r, out);
    const texts = numberTextsOf(r);
    for (const p of defs.searchParams(type).values()) {
      if (META_PARAMS.has(p.code) || !p.expression) continue;
      const composite = p.type === 'composite' ? composites.get(`${type}.${p.code}`) : undefined;
      if (!composite && !SIMPLE.has(p.type)) continue; // `special` (Location.near) has no row form.
      try {
        let values = toValues(cache.get(p.expression)(r, { resource: r }));
        if (p.type === 'reference') values = values.filter((v) => referenceable(v, p.targets));
        if (composite) {
          compositeRows(type, p.code, composite, values, r, out, texts);
          continue;
        }
        if (values.length > 0) out.present.add(p.code);
        const t = p.type as SimpleParamType;
        for (const v of values) appendRows(out, t, rowsOf(t, p.code, v, isResourceType, texts));
      } catch {
        fail(type, p.code);
      }
    }
    return out;
  };

  return { extract, failures };
}
