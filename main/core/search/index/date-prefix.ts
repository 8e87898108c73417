/**
 * R4 search prefixes over ranges (search.html, "prefixes"), as conditions on a row's
 * half-open range [start, end) given the search value's implicit range [qs, qe).
 * The result is an OR of ANDs: each AND-group becomes one SELECT of a UNION, so each can
 * use its own index (SQLite would scan for an OR spanning two columns).
 * docs/search-index.md, "Date prefixes", derives each row.
 */

export const DATE_PREFIXES = ['eq', 'ne', 'lt', 'gt', 'le', 'ge', 'sa', 'eb', 'ap'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

export interface Bound {
  col: 'start' | 'end';
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

/** How far `ap` widens the search range: 10% of its distance from now (spec's suggestion). */
export function approximateMargin(qs: number, qe: number, now: number): number {
  const distance = now < qs ? qs - now : now >= qe ? now - qe : 0;
  return Math.round(distance * 0.1);
}

export function prefixConditions(prefix: DatePrefix, qs: number, qe: number, now = Date.now()): Bound[][] {
  const b = (col: Bound['col'], op: Bound['op'], value: number): Bound => ({ col, op, value });
  switch (prefix) {
    // Contained: start >= qs and end <= qe; `start <= qe` is implied (start <= end) and
    // bounds the index range on start.
    case 'eq':
      return [[b('start', '>=', qs), b('start', '<=', qe), b('end', '<=', qe)]];
    case 'ne':
      return [[b('start', '<', qs)], [b('end', '>', qe)]];
    case 'gt':
      return [[b('end', '>', qe)]];
    case 'lt':
      return [[b('start', '<', qs)]];
    // gt or eq: any row starting at or after qs is either contained or sticks out above.
    case 'ge':
      return [[b('start', '>=', qs)], [b('end', '>', qe)]];
    case 'le':
      return [[b('end', '<=', qe)], [b('start', '<', qs)]];
    case 'sa':
      return [[b('start', '>=', qe)]];
    case 'eb':
      return [[b('end', '<=', qs)]];
    case 'ap': {
      const d = approximateMargin(qs, qe, now);
      return [[b('start', '<', qe + d), b('end', '>', qs - d)]];
    }
  }
}

/**
 * Renders an AND-group over two columns. With `pointEnd` the row is the single
 * millisecond [t, t+1) held in `startCol` alone, and each end condition is rewritten onto
 * it (end op x  <=>  t op x-1), so the (type, last_updated) index serves.
 */
export function renderGroup(group: Bound[], startCol: string, endCol: string | null): { sql: string; args: number[] } {
  const parts: string[] = [];
  const args: number[] = [];
  for (const { col, op, value } of group) {
    if (col === 'start' || endCol !== null) {
      parts.push(`${col === 'start' ? startCol : endCol} ${op} ?`);
      args.push(value);
      continue;
    }
    parts.push(`${startCol} ${op} ?`);
    args.push(value - 1);
  }
  return { sql: parts.join(' AND '), args };
}
