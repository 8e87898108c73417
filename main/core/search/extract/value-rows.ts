/** Dispatch from a parameter type to the row builder for one value, and into IndexRows. */
import { dateRows } from './date-rows';
import { numberRows, quantityRows, type NumberTexts } from './number-rows';
import { referenceRows, type IsResourceType } from './reference-rows';
import type { ComponentRow, DateRow, IndexRows, NumberRow, QuantityRow, ReferenceRow, SimpleParamType, StringRow, TokenRow, UriRow } from './rows';
import { stringRows, uriRows } from './string-rows';
import { tokenRows } from './token-rows';
import type { FhirValue } from './values';

export function rowsOf(type: SimpleParamType, param: string, v: FhirValue, isResourceType: IsResourceType, texts?: NumberTexts): ComponentRow[] {
  switch (type) {
    case 'string':
      return stringRows(param, v);
    case 'token':
      return tokenRows(param, v);
    case 'reference':
      return referenceRows(param, v, isResourceType);
    case 'date':
      return dateRows(param, v);
    case 'number':
      return numberRows(param, v, texts);
    case 'quantity':
      return quantityRows(param, v, texts);
    case 'uri':
      return uriRows(param, v);
  }
}

export function appendRows(out: IndexRows, type: SimpleParamType, rows: ComponentRow[]): void {
  if (rows.length === 0) return;
  switch (type) {
    case 'string':
      out.strings.push(...(rows as StringRow[]));
      break;
    case 'token':
      out.tokens.push(...(rows as TokenRow[]));
      break;
    case 'reference':
      out.references.push(...(rows as ReferenceRow[]));
      break;
    case 'date':
      out.dates.push(...(rows as DateRow[]));
      break;
    case 'number':
      out.numbers.push(...(rows as NumberRow[]));
      break;
    case 'quantity':
      out.quantities.push(...(rows as QuantityRow[]));
      break;
    case 'uri':
      out.uris.push(...(rows as UriRow[]));
      break;
  }
}
