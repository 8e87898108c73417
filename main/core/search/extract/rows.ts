/**
 * The rows a resource contributes to the search index, one kind per R4 search parameter
 * type. Rows carry what the R4 search page needs to match each type and its modifiers, and
 * no more: the store decides how to lay them out. `param` is the search parameter code.
 */

/** Sentinels for open ends (open Period, `<5` quantities): JSON- and SQLite-safe, unlike Infinity. */
export const OPEN_LOW = Number.MIN_SAFE_INTEGER;
export const OPEN_HIGH = Number.MAX_SAFE_INTEGER;

export interface StringRow {
  param: string;
  /** NFD, accents stripped, lower case, whitespace collapsed: default and :contains match this. */
  value: string;
  /** The value as written, for :exact. */
  exact: string;
}

export interface TokenRow {
  param: string;
  /** null when the value has no system (code/string/boolean primitives, ContactPoint). */
  system: string | null;
  code: string | null;
  /** Normalized display/text, for :text. */
  text: string | null;
  /** Identifier.type coding, for :of-type (one row per type coding). */
  ofTypeSystem?: string | null;
  ofTypeCode?: string | null;
}

export interface ReferenceRow {
  param: string;
  /** Parsed from `Type/id`, `[base]/Type/id`, or Reference.type. */
  targetType: string | null;
  targetId: string | null;
  /** `_history` version of a literal reference, or the `|version` of a canonical. */
  version?: string | null;
  /** Absolute URL, urn, or canonical (without `|version`), as written. */
  url: string | null;
  /** Local id (without '#') of a reference to a contained resource. */
  contained?: string | null;
  /** Reference.identifier, for :identifier. */
  identifierSystem?: string | null;
  identifierValue?: string | null;
}

export interface DateRow {
  param: string;
  /** Milliseconds since the epoch, inclusive; OPEN_LOW when open. */
  start: number;
  /** Milliseconds since the epoch, exclusive; OPEN_HIGH when open. */
  end: number;
}

/**
 * The implicit range of a number as written: 1.5 -> [1.45, 1.55). Exact values
 * (integers of integer types) have low === high.
 */
export interface NumberRow {
  param: string;
  low: number;
  high: number;
}

export interface QuantityRow {
  param: string;
  system: string | null;
  code: string | null;
  unit: string | null;
  low: number;
  high: number;
  /** UCUM base units (`g`, `g.m-1.s-2`, `1`), for unit-converting comparisons. */
  canonicalCode?: string | null;
  canonicalLow?: number | null;
  canonicalHigh?: number | null;
}

export interface UriRow {
  param: string;
  uri: string;
}

export type ComponentRow = StringRow | TokenRow | ReferenceRow | DateRow | NumberRow | QuantityRow | UriRow;

export interface CompositeComponent {
  /** Code of the component's search parameter. */
  param: string;
  type: SimpleParamType;
  rows: ComponentRow[];
}

/**
 * One row per element the composite expression selects (e.g. per Observation.component):
 * a composite matches only when all its components match within the same element.
 */
export interface CompositeRow {
  param: string;
  components: CompositeComponent[];
}

export type SimpleParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri';

export interface IndexRows {
  strings: StringRow[];
  tokens: TokenRow[];
  references: ReferenceRow[];
  dates: DateRow[];
  numbers: NumberRow[];
  quantities: QuantityRow[];
  uris: UriRow[];
  composites: CompositeRow[];
  /** Codes of the params whose expression yields at least one value, for :missing. */
  present: Set<string>;
}

export function emptyRows(): IndexRows {
  return {
    strings: [],
    tokens: [],
    references: [],
    dates: [],
    numbers: [],
    quantities: [],
    uris: [],
    composites: [],
    present: new Set(),
  };
}
