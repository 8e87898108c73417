/**
 * quantity: `[prefix]number|system|code`, `[prefix]number||unit` (the code or the unit as
 * written, any system) and `[prefix]number` (any unit); prefixes as for numbers. With UCUM
 * as the system and a code that converts, both sides compare in UCUM base units, so
 * `5.4|http://unitsofmeasure.org|mg` finds 0.0054 g; otherwise units match as written.
 */
import { badRequest } from '../../../../shared/fhir/outcome';
import { toCanonical } from '../extract/ucum';
import type { QuantityQuery } from '../index/index-queries';
import { splitUnescaped, unescapeValue } from '../query-values';
import { numberQuery } from './number';
import { acceptsOnly, type ParamType } from './param-type';

export const UCUM = 'http://unitsofmeasure.org';

export const quantity: ParamType = {
  accepts: acceptsOnly(undefined),
  match({ index, type, param }, raw) {
    return index.quantity(type, param.code, quantityQuery(raw, param.code));
  },
};

export function quantityQuery(raw: string, code: string): QuantityQuery {
  const parts = splitUnescaped(raw, '|');
  if (parts.length !== 1 && parts.length !== 3) throw badRequest(`${code} takes [prefix]number, or [prefix]number|system|code`);
  const range = numberQuery(parts[0] ?? '', code);
  const system = unescapeValue(parts[1] ?? '');
  const unit = unescapeValue(parts[2] ?? '');
  if (!system) return { ...range, unit: unit ? { match: 'code-or-unit', unit } : { match: 'any' } };
  if (!unit) return { ...range, unit: { match: 'system', system } };
  if (system === UCUM) {
    const low = toCanonical(unit, range.low);
    const high = toCanonical(unit, range.high);
    // Conversions are increasing (factors, or offsets like Cel -> K), so the bounds keep their order.
    if (low && high) return { prefix: range.prefix, low: low.value, high: high.value, unit: { match: 'canonical', code: low.code } };
  }
  return { ...range, unit: { match: 'code', system, code: unit } };
}
