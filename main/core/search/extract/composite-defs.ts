/**
 * Composite search parameters' components. definitions.ts does not keep
 * SearchParameter.component, so this reads the same R4 search parameters for it (the
 * build's trimmed index, core-definition-files.ts): per resource type and composite code,
 * each component's code, type and expression (relative to the element the composite's own
 * expression selects).
 */
import { readCoreIndex } from '../../fhir/core-definition-files';
import type { SimpleParamType } from './rows';

export interface CompositePart {
  code: string;
  type: SimpleParamType;
  expression: string;
}

/** Key: `${resourceType}.${code}`. */
export type CompositeDefs = ReadonlyMap<string, CompositePart[]>;

const SIMPLE = new Set<string>(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);

export function loadCompositeDefs(): CompositeDefs {
  const params = readCoreIndex().searchParameters;
  const byUrl = new Map(params.filter((p) => p.url).map((p) => [p.url as string, p]));
  const out = new Map<string, CompositePart[]>();
  for (const sp of params) {
    if (sp.type !== 'composite' || !sp.code || !sp.component) continue;
    const parts: CompositePart[] = [];
    for (const c of sp.component) {
      const def = c.definition ? byUrl.get(c.definition) : undefined;
      if (!def?.code || !def.type || !SIMPLE.has(def.type) || !c.expression) continue;
      parts.push({ code: def.code, type: def.type as SimpleParamType, expression: c.expression });
    }
    // A composite missing a component could never match: leave it out entirely.
    if (parts.length !== sp.component.length) continue;
    for (const base of sp.base ?? []) out.set(`${base}.${sp.code}`, parts);
  }
  return out;
}
