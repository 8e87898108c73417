/**
 * The R4 SearchParameters of the corpus (search-parameters/search-parameters.json), with
 * their FHIRPath expressions compiled by the `fhirpath` package: a reading of the
 * definitions that shares no code with the server's extraction (main/core/search/extract),
 * so a test can check the server against it. Third-party data: read in place.
 */
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { readJson } from './corpus';

/** FHIRPath output as (FHIR type without its `FHIR.`/`System.` namespace, JSON value). */
export interface Typed {
  type: string;
  value: unknown;
}

export type Evaluate = (input: unknown, resource: unknown) => Typed[];

export interface Component {
  /** Type of the component's own SearchParameter (`component[].definition`). */
  type: string;
  /** Evaluates `component[].expression` relative to the composite's selected element. */
  evaluate: (base: string) => Evaluate;
}

export interface ParamDef {
  code: string;
  type: string;
  targets: readonly string[];
  evaluate: Evaluate;
  /** The top-level union members of the expression; for composites, each is the base path of its elements. */
  members: { base: string; evaluate: Evaluate }[];
  components?: Component[];
}

/** Per resource type, its parameters with an expression (`special` ones left out). */
export type SearchDefinitions = (type: string) => readonly ParamDef[];

export function loadSearchDefinitions(): SearchDefinitions {
  const bundle = readJson<Bundle<SearchParameter>>('search-parameters', 'search-parameters.json');
  const params = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const byUrl = new Map(params.map((p) => [p.url, p]));
  const all: { bases: string[]; def: ParamDef }[] = [];
  for (const sp of params) {
    if (!sp.code || !sp.expression || sp.type === 'special') continue;
    const members = splitUnion(sp.expression).map((m) => ({ base: m, evaluate: compile(m) }));
    const evaluate: Evaluate = (input, resource) => members.flatMap((m) => m.evaluate(input, resource));
    const def: ParamDef = { code: sp.code, type: sp.type, targets: sp.target ?? [], evaluate, members };
    if (sp.type === 'composite') {
      def.components = (sp.component ?? []).map((c) => {
        const type = byUrl.get(c.definition)?.type ?? 'unknown';
        return { type, evaluate: (base: string) => compile(c.expression, base) };
      });
    }
    all.push({ bases: sp.base, def });
  }
  const cache = new Map<string, ParamDef[]>();
  return (type) => {
    let defs = cache.get(type);
    if (!defs) {
      defs = all.filter((p) => p.bases.some((b) => b === type || b === 'Resource' || b === 'DomainResource')).map((p) => p.def);
      cache.set(type, defs);
    }
    return defs;
  };
}

/**
 * Rewrites for what fhirpath.js does not accept in the R4 definitions: `x as T` on more than
 * one item (the definitions apply it to repeating elements, meaning a filter: ofType), and
 * FHIR's `DateTime` spelled as the System type, which never matches FHIR data.
 */
export function rewrite(expression: string): string {
  return expression
    .replace(/\(([^()]+?)\s+as\s+([A-Za-z]+)\)/g, '($1.ofType($2))')
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, '.ofType($1)')
    .replace(/\bDateTime\b/g, 'dateTime');
}

/**
 * The top-level members of `a | b | c`, evaluated apart and concatenated: fhirpath.js's
 * union de-duplicates by comparing values, and throws on a Quantity with a comparator.
 */
export function splitUnion(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out.filter((m) => m.length > 0);
}

const compiled = new Map<string, Evaluate>();

function compile(expression: string, base?: string): Evaluate {
  const key = `${base ?? ''}\u0000${expression}`;
  let fn = compiled.get(key);
  if (!fn) {
    const path = base ? { base, expression: rewrite(expression) } : rewrite(expression);
    const options = { resolveInternalTypes: false, userInvocationTable: { resolve: RESOLVE } } as const;
    const fp = fhirpath.compile(path, r4, options) as unknown as (input: unknown, env: Record<string, unknown>) => unknown[];
    fn = (input, resource) => {
      const out = fp(input, { resource });
      const types = fhirpath.types(out);
      const values = fhirpath.resolveInternalTypes(out) as unknown[];
      return values.map((value, i) => ({ type: (types[i] ?? '').replace(/^(FHIR|System)\./, ''), value }));
    };
    compiled.set(key, fn);
  }
  return fn;
}

interface NodeClass {
  makeResNode(ctx: unknown, data: unknown, parent: null, path: null, type: null, typeName: null): unknown;
}

const LITERAL = /^(?:.*\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9.-]{1,64}(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/;

/**
 * `resolve()` stands in for the target with an empty resource of the type the reference
 * names (its literal `Type/id`, or Reference.type): the definitions use it only as
 * `where(resolve() is Patient)`. fhirpath.js's own resolve() would fetch. The node is
 * made with fhirpath's own node class, so `is` sees a FHIR resource.
 */
const RESOLVE = {
  internalStructures: true,
  arity: { 0: [] },
  fn: function (this: unknown, inputs: unknown[]): unknown[] {
    return inputs.flatMap((node) => {
      const ref = fhirpath.util.valData(node) as { reference?: unknown; type?: unknown } | null;
      const literal = typeof ref?.reference === 'string' ? LITERAL.exec(ref.reference)?.[1] : undefined;
      const type = literal ?? (typeof ref?.type === 'string' ? ref.type : undefined);
      const cls = (node as object).constructor as unknown as Partial<NodeClass>;
      return type && cls.makeResNode ? [cls.makeResNode(this, { resourceType: type }, null, null, null, null)] : [];
    });
  },
};
