/**
 * Parsing search criteria into a tree the engine evaluates (search/index-search.ts):
 *   `identifier=http://x|123`         a parameter with OR-ed values
 *   `subject:Patient.name=Eve`        a chain: references whose targets match the rest
 *   `_has:Observation:patient:code=x` reverse chain: resources referenced by matches
 * Result parameters (_count, _sort, ...) are not criteria. What the engine cannot
 * evaluate is reported, so the caller can reject it (strict search, conditional writes,
 * where ignoring a criterion would touch the wrong resources) or ignore it with a warning.
 */
import { badRequest } from '../../../shared/fhir/outcome';
import type { Definitions, SearchParamDef } from '../fhir/definitions';
import { PARAM_TYPES } from './params';
import { isTargetType } from './params/reference';
import { splitValues } from './query-values';

export { splitToken, splitValues, unescapeValue } from './query-values';

export interface ParamCriterion {
  kind: 'param';
  param: SearchParamDef;
  modifier?: string;
  /** OR-ed values (comma-separated in the query). */
  values: string[];
}

/** `ref[:Type].rest`: resources whose `ref` points to a target type's matches of `rest`. */
export interface ChainCriterion {
  kind: 'chain';
  param: SearchParamDef;
  /** Per target type, the rest of the chain as parsed for that type. */
  targets: Map<string, Criterion>;
}

/** `_has:Source:ref:rest`: resources that a `Source` matching `rest` points to via `ref`. */
export interface HasCriterion {
  kind: 'has';
  sourceType: string;
  param: SearchParamDef;
  inner: Criterion;
}

/** Any of several criteria (compartment membership: `subject` or `performer` is the patient). */
export interface AnyCriterion {
  kind: 'any';
  of: Criterion[];
}

/** Every one of several criteria (one access grant: in the patient's compartment and matching its query). */
export interface AllCriterion {
  kind: 'all';
  of: Criterion[];
}

/** Exactly these rows (built by operations such as $everything, never parsed from a query). */
export interface RidsCriterion {
  kind: 'rids';
  rids: readonly number[];
}

export type Criterion = ParamCriterion | ChainCriterion | HasCriterion | AnyCriterion | AllCriterion | RidsCriterion;
/** Kept under its historical name: a criterion on one parameter. */
export type Filter = ParamCriterion;

export interface ParsedCriteria {
  /** AND-ed. */
  filters: Criterion[];
  /** Parameter names that were not understood or are not supported. */
  unsupported: string[];
}

export const RESULT_PARAMS = new Set([
  '_count', '_sort', '_summary', '_elements', '_total', '_format', '_pretty', '_include', '_revinclude',
  '_include:iterate', '_revinclude:iterate', '_include:recurse', '_revinclude:recurse',
  '_contained', '_containedType', '_cursor', '_type',
]); // prettier-ignore

/** Chains and `_has` deeper than this are refused: each level is a join over the index. */
const MAX_DEPTH = 4;

export function parseCriteria(defs: Definitions, type: string, query: URLSearchParams): ParsedCriteria {
  const filters: Criterion[] = [];
  const unsupported: string[] = [];
  for (const [key, raw] of query) {
    if (RESULT_PARAMS.has(key)) continue;
    const values = splitValues(raw);
    const criterion = parseKey(defs, type, key, values, 0);
    if (!criterion) {
      unsupported.push(key);
      continue;
    }
    if (values.length === 0) throw badRequest(`Search parameter '${key}' has no value`);
    filters.push(criterion);
  }
  return { filters, unsupported };
}

/** One query key (with its values) on `type`, or undefined if it cannot be evaluated. */
export function parseKey(defs: Definitions, type: string, key: string, values: string[], depth: number): Criterion | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (key.startsWith('_has:')) return parseHas(defs, type, key, values, depth);
  const dot = key.indexOf('.');
  const head = dot < 0 ? key : key.slice(0, dot);
  const [code = '', modifier] = head.split(':', 2);
  const param = defs.searchParams(type).get(code);
  if (!param || !param.expression) return undefined;
  if (dot >= 0) return parseChain(defs, param, modifier, key.slice(dot + 1), values, depth);
  const kind = PARAM_TYPES[param.type];
  if (!kind || !kind.accepts(modifier, param, defs)) return undefined;
  const c: ParamCriterion = { kind: 'param', param, values };
  if (modifier) c.modifier = modifier;
  return c;
}

function parseChain(
  defs: Definitions,
  param: SearchParamDef,
  modifier: string | undefined,
  rest: string,
  values: string[],
  depth: number,
): ChainCriterion | undefined {
  if (param.type !== 'reference') return undefined;
  if (modifier !== undefined && !isTargetType(modifier, param.targets, defs.isResourceType)) return undefined;
  const candidates = modifier ? [modifier] : param.targets.length > 0 ? param.targets : defs.resourceTypes;
  const targets = new Map<string, Criterion>();
  for (const t of candidates) {
    if (!defs.isResourceType(t)) continue;
    const inner = parseKey(defs, t, rest, values, depth + 1);
    if (inner) targets.set(t, inner);
  }
  return targets.size > 0 ? { kind: 'chain', param, targets } : undefined;
}

/** `_has:Type:ref:rest`; `rest` may itself be a `_has:` (nested) or a chain. */
function parseHas(defs: Definitions, type: string, key: string, values: string[], depth: number): HasCriterion | undefined {
  const m = /^_has:([A-Za-z]+):([^:.]+):(.+)$/.exec(key);
  if (!m) return undefined;
  const [, sourceType = '', refCode = '', rest = ''] = m;
  if (!defs.isResourceType(sourceType)) return undefined;
  const param = defs.searchParams(sourceType).get(refCode);
  if (!param || param.type !== 'reference' || !isTargetType(type, param.targets, defs.isResourceType)) return undefined;
  const inner = parseKey(defs, sourceType, rest, values, depth + 1);
  return inner ? { kind: 'has', sourceType, param, inner } : undefined;
}
