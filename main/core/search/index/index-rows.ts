/**
 * The rows the index stores are the rows extraction produces: one contract, defined in
 * extract/rows.ts, so the two sides cannot drift apart.
 */
export type {
  ComponentRow,
  CompositeComponent,
  CompositeRow,
  DateRow,
  IndexRows,
  NumberRow,
  QuantityRow,
  ReferenceRow,
  SimpleParamType,
  StringRow,
  TokenRow,
  UriRow,
} from '../extract/rows';
export { OPEN_HIGH, OPEN_LOW, emptyRows as emptyIndexRows } from '../extract/rows';
