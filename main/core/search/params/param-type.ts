/**
 * One file per search parameter type (token.ts, string.ts, ...): each says which
 * modifiers it evaluates and turns one search value into the matching row ids of one
 * resource type. Combining values (OR), parameters (AND), chains, `_has`, `:not` and
 * `:missing` is the engine's job (search/index-search.ts).
 */
import type { Definitions, SearchParamDef } from '../../fhir/definitions';
import type { IndexQueries } from '../index/index-queries';

export interface ParamQuery {
  index: IndexQueries;
  /** The resource type searched. */
  type: string;
  param: SearchParamDef;
  modifier?: string;
  /** This server's FHIR base, so absolute references to it match local ones. */
  localBase?: string;
}

export interface ParamType {
  /** Whether `modifier` (undefined = none) is evaluated for this parameter. */
  accepts(modifier: string | undefined, param: SearchParamDef, defs: Definitions): boolean;
  /** Distinct row ids of `q.type` matching one search value. */
  match(q: ParamQuery, raw: string): number[];
}

/** Modifiers every type accepts; the engine evaluates them. */
export const ENGINE_MODIFIERS: ReadonlySet<string> = new Set(['missing']);

export const acceptsOnly =
  (...modifiers: Array<string | undefined>): ParamType['accepts'] =>
  (modifier) =>
    modifiers.includes(modifier) || (modifier !== undefined && ENGINE_MODIFIERS.has(modifier));
