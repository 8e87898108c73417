/**
 * WHERE fragments for index-queries.ts: token, quantity and composite-component conditions,
 * written once over column names so the same rules serve a row table and an sp_composite
 * alias. Values always travel as arguments; only the shape of a search enters the SQL text.
 */
import { prefixConditions, renderGroup, type Bound } from './date-prefix';
import type { ComponentQuery, QuantityQuery, TokenQuery } from './index-queries';
import { numberConditions } from './number-prefix';

/** Just above every string starting with `prefix` (U+10FFFF is the largest code point). */
export const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`;

/** A WHERE fragment and its arguments; fragments combine, values never enter the SQL text. */
export interface Cond {
  sql: string;
  args: unknown[];
}
export const cond = (sql: string, ...args: unknown[]): Cond => ({ sql, args });
export const and = (...parts: Cond[]): Cond => ({
  sql: parts.map((p) => p.sql).filter(Boolean).join(' AND '),
  args: parts.flatMap((p) => p.args),
});
export const or = (alts: Cond[]): Cond =>
  alts.length === 1 ? alts[0]! : { sql: `(${alts.map((a) => `(${a.sql})`).join(' OR ')})`, args: alts.flatMap((a) => a.args) };
export const ranges = (groups: Bound[][], low: string, high: string | null): Cond[] => groups.map((g) => renderGroup(g, low, high));

export function tokenCond({ system, code }: TokenQuery, systemCol: string, codeCol: string): Cond {
  if (code === undefined) {
    if (typeof system !== 'string') throw new RangeError('a token search needs a code or a system');
    return cond(`${systemCol} = ?`, system);
  }
  if (system === undefined) return cond(`${codeCol} = ?`, code);
  return cond(`${codeCol} = ? AND ${systemCol} IS ?`, code, system);
}

/** Where a quantity's parts are: sp_quantity's columns, or an sp_composite alias's. */
export interface QuantityColumns {
  system: string;
  code: string;
  unit: string;
  low: string;
  high: string;
  canonicalCode: string;
  canonicalLow: string;
  canonicalHigh: string;
}
export const QUANTITY: QuantityColumns = {
  system: 'system', code: 'code', unit: 'unit', low: 'low', high: 'high',
  canonicalCode: 'canonical_code', canonicalLow: 'canonical_low', canonicalHigh: 'canonical_high',
}; // prettier-ignore

/** OR-ed alternatives: each unit condition with each prefix group (a UNION part apiece). */
export function quantityAlternatives(q: QuantityQuery, c: QuantityColumns): Cond[] {
  const groups = numberConditions(q.prefix, q.low, q.high);
  const on = (unit: Cond, low = c.low, high = c.high) => ranges(groups, low, high).map((r) => and(unit, r));
  const u = q.unit;
  switch (u.match) {
    case 'any':
      return on(cond(''));
    case 'code':
      return on(cond(`${c.code} = ? AND ${c.system} = ?`, u.code, u.system));
    case 'system':
      return on(cond(`${c.system} = ?`, u.system));
    case 'code-or-unit':
      return [...on(cond(`${c.code} = ?`, u.unit)), ...on(cond(`${c.unit} = ?`, u.unit))];
    case 'canonical':
      return on(cond(`${c.canonicalCode} = ?`, u.code), c.canonicalLow, c.canonicalHigh);
  }
}

/** One component's condition on the sp_composite alias `a` (row-writer.ts componentValues). */
export function componentCond(c: ComponentQuery, a: string): Cond {
  switch (c.type) {
    case 'token':
      return tokenCond(c.q, `${a}.system`, `${a}.code`);
    case 'string':
      return cond(`${a}.text >= ? AND ${a}.text < ?`, c.value, prefixEnd(c.value));
    case 'uri':
      return cond(`${a}.text = ?`, c.uri);
    case 'reference': {
      const { url, targetType, targetId } = c.q;
      if (url !== undefined) return cond(`${a}.text = ?`, url);
      if (targetId === undefined) throw new RangeError('a reference search needs an id or a url');
      if (targetType !== undefined) return cond(`${a}.text = ?`, `${targetType}/${targetId}`);
      return cond(`substr(${a}.text, -length(?)) = ?`, `/${targetId}`, `/${targetId}`);
    }
    case 'date':
      return or(ranges(prefixConditions(c.prefix, c.start, c.end, c.now), `${a}.low`, `${a}.high`));
    case 'number':
      return or(ranges(numberConditions(c.q.prefix, c.q.low, c.q.high), `${a}.low`, `${a}.high`));
    case 'quantity': {
      const col = (k: string) => `${a}.${k}`;
      return or(quantityAlternatives(c.q, {
        system: col('system'), code: col('code'), unit: col('text'), low: col('low'), high: col('high'),
        canonicalCode: col('canonical_code'), canonicalLow: col('canonical_low'), canonicalHigh: col('canonical_high'),
      })); // prettier-ignore
    }
  }
}
