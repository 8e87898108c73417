/**
 * What the index stores for one resource: the rows an extractor derives from it, one kind
 * per R4 search parameter type. Declared here rather than imported from search/extract so
 * that the index does not depend on one extractor; the shapes match, to be reconciled.
 * `param` is always the search parameter code (the index scopes it by resource type).
 */

export interface StringRow {
  param: string;
  /** Normalized (case and accents folded): default search and :contains. */
  value: string;
  /** As written, for :exact. */
  exact: string | null;
}

export interface TokenRow {
  param: string;
  system: string | null;
  code: string | null;
  /** Normalized display/text, for :text. */
  text: string | null;
}

export interface ReferenceRow {
  param: string;
  targetType: string | null;
  targetId: string | null;
  url: string | null;
  version?: string | null;
}

/** Milliseconds, half-open [start, end); null = open end. */
export interface DateRow {
  param: string;
  start: number | null;
  end: number | null;
}

export interface NumberRow {
  param: string;
  low: number | null;
  high: number | null;
}

export interface QuantityRow {
  param: string;
  system: string | null;
  code: string | null;
  unit: string | null;
  low: number | null;
  high: number | null;
  canonicalCode?: string | null;
  canonicalLow?: number | null;
  canonicalHigh?: number | null;
}

export interface UriRow {
  param: string;
  uri: string;
}

export type SimpleParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri';
export type ComponentRow = StringRow | TokenRow | ReferenceRow | DateRow | NumberRow | QuantityRow | UriRow;

export interface CompositeComponent {
  param: string;
  type: SimpleParamType;
  rows: ComponentRow[];
}

/** One per element the composite expression selects: components match within one element. */
export interface CompositeRow {
  param: string;
  components: CompositeComponent[];
}

export interface IndexRows {
  strings: StringRow[];
  tokens: TokenRow[];
  references: ReferenceRow[];
  dates: DateRow[];
  numbers: NumberRow[];
  quantities: QuantityRow[];
  uris: UriRow[];
  composites: CompositeRow[];
  /** Codes of the params with at least one value, for :missing. */
  present: Set<string>;
}

export function emptyIndexRows(): IndexRows {
  return { strings: [], tokens: [], references: [], dates: [], numbers: [], quantities: [], uris: [], composites: [], present: new Set() };
}

/** Stored for open ends instead of NULL so range predicates need no NULL cases. */
export const OPEN_LOW = Number.MIN_SAFE_INTEGER;
export const OPEN_HIGH = Number.MAX_SAFE_INTEGER;
