/**
 * number: the nine R4 prefixes (docs/search-index.md, "Number and quantity prefixes").
 * numberQuery also reads the number part of quantity and composite values.
 */
import { badRequest } from '../../../../shared/fhir/outcome';
import { DATE_PREFIXES, type DatePrefix } from '../index/date-prefix';
import type { RangeQuery } from '../index/index-queries';
import { acceptsOnly, type ParamType } from './param-type';

const NUMBER = /^-?\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export const number: ParamType = {
  accepts: acceptsOnly(undefined),
  match({ index, type, param }, raw) {
    return index.number(type, param.code, numberQuery(raw, param.code));
  },
};

/**
 * `[prefix]number` as what its prefix compares against. eq and ne use the implicit range
 * of the digits written (R4: `100` is [99.5, 100.5), `1.00e2` the same, `1e2` [50, 150));
 * ap widens it by 10% of the value on each side; the other prefixes ignore precision
 * ("treated as if they have arbitrarily high precision") and compare the exact value.
 */
export function numberQuery(raw: string, code: string): RangeQuery {
  const m = /^([a-z]{2})?(.*)$/.exec(raw);
  const prefix = (m?.[1] ?? 'eq') as DatePrefix;
  if (!DATE_PREFIXES.includes(prefix)) throw badRequest(`Unknown prefix in '${code}'`);
  const text = m?.[2] ?? '';
  const n = NUMBER.exec(text);
  const value = Number(text);
  if (!n || !Number.isFinite(value)) throw badRequest(`${code} must be a number, optionally with a prefix (got '${raw}')`);
  // Same arithmetic as the rows' implicitRange (extract/number-rows.ts), so a value searched
  // as written finds itself bit for bit.
  const half = 0.5 * 10 ** (Number(n[2] ?? 0) - (n[1]?.length ?? 0));
  if (prefix === 'eq' || prefix === 'ne') return { prefix, low: value - half, high: value + half };
  if (prefix === 'ap') {
    const margin = 0.1 * Math.abs(value);
    return { prefix, low: value - half - margin, high: value + half + margin };
  }
  return { prefix, low: value, high: value };
}
