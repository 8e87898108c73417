/**
 * composite: component values joined with `$` (`code-value-quantity=http://loinc.org|8480-6$gt100`),
 * each read by its own type's rules; all must match within one element the composite's
 * expression selects (one Observation.component), not across elements. Which component has
 * which type comes from the R4 definitions (extract/composite-defs.ts). No modifiers (R4).
 */
import { badRequest } from '../../../../shared/fhir/outcome';
import { dateRange } from '../../fhir/fhir-dates';
import { loadCompositeDefs, type CompositeDefs, type CompositePart } from '../extract/composite-defs';
import { normalizeText } from '../extract/text';
import { DATE_PREFIXES, type DatePrefix } from '../index/date-prefix';
import type { ComponentQuery } from '../index/index-queries';
import { splitUnescaped, unescapeValue } from '../query-values';
import { numberQuery } from './number';
import { ENGINE_MODIFIERS, type ParamType } from './param-type';
import { quantityQuery } from './quantity';
import { referenceQuery } from './reference';
import { tokenQuery } from './token';

// Read on first use: the definitions bundle is large and most searches are not composite.
let defs: CompositeDefs | undefined;
let codes: ReadonlySet<string> | undefined;
const compositeDefs = (): CompositeDefs => (defs ??= loadCompositeDefs());
const compositeCodes = (): ReadonlySet<string> => (codes ??= new Set([...compositeDefs().keys()].map((k) => k.slice(k.indexOf('.') + 1))));

export const composite: ParamType = {
  accepts: (modifier, param) => (modifier === undefined || ENGINE_MODIFIERS.has(modifier)) && compositeCodes().has(param.code),
  match({ index, type, param, localBase }, raw) {
    const parts = compositeDefs().get(`${type}.${param.code}`);
    // The extractor writes no rows for a composite it has no components for.
    if (!parts) return [];
    const values = splitUnescaped(raw, '$');
    if (values.length !== parts.length) {
      throw badRequest(`${param.code} takes ${parts.length} values joined with $ (${parts.map((p) => p.code).join('$')})`);
    }
    return index.composite(type, param.code, parts.map((part, i) => componentQuery(part, values[i] ?? '', localBase)));
  },
};

function componentQuery(part: CompositePart, raw: string, localBase: string | undefined): ComponentQuery {
  switch (part.type) {
    case 'token':
      return { type: 'token', q: tokenQuery(raw, part.code) };
    case 'string':
      return { type: 'string', value: normalizeText(unescapeValue(raw)) };
    case 'uri':
      return { type: 'uri', uri: unescapeValue(raw) };
    case 'reference':
      return { type: 'reference', q: referenceQuery(unescapeValue(raw), localBase) };
    case 'date': {
      // As params/date.ts reads a date value.
      const m = /^([a-z]{2})?(.+)$/.exec(raw);
      const prefix = (m?.[1] ?? 'eq') as DatePrefix;
      if (!DATE_PREFIXES.includes(prefix)) throw badRequest(`Unknown date prefix in '${part.code}'`);
      const { start, end } = dateRange(m?.[2] ?? '', part.code);
      return { type: 'date', prefix, start, end };
    }
    case 'number':
      return { type: 'number', q: numberQuery(raw, part.code) };
    case 'quantity':
      return { type: 'quantity', q: quantityQuery(raw, part.code) };
  }
}
