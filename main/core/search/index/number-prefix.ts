/**
 * R4 prefixes for numbers and quantities (docs/search-index.md, "Number and quantity
 * prefixes"), as AND-groups of bounds on a row's [low, high] that index-queries.ts renders
 * with date-prefix.ts's renderGroup ('start' = low, 'end' = high).
 *
 * Why not date-prefix.ts's prefixConditions: a stored number is either a half-open range
 * [low, high) (a decimal's implicit precision, a Range) or, for integer-typed elements, a
 * point (low = high), for which the half-open rules are wrong at the edges (`1e2`,
 * [50, 150), would find the integer 150); and R4 compares gt/lt/ge/le/sa/eb against the
 * exact value, not against a range. Each group below is exact for both row shapes.
 */
import type { Bound, DatePrefix } from './date-prefix';

/**
 * Containment tolerates this much relative error: the same quantity written two ways
 * (5.4 mg, 0.0054 g) gives canonical bounds that differ in the last bits.
 */
const SLACK = 1e-12;
const slack = (x: number) => Math.abs(x) * SLACK;

/**
 * `low`/`high` is the search value as params/number.ts reduces it: [low, high) for eq and ne
 * (the implicit range) and ap (widened by 10%); the exact value (low = high) otherwise.
 */
export function numberConditions(prefix: DatePrefix, low: number, high: number): Bound[][] {
  const b = (col: Bound['col'], op: Bound['op'], value: number): Bound => ({ col, op, value });
  const v = low;
  // More digits than a double holds (66.89999999999999, 1000000000000000000): value ± half
  // rounds back to the value and [low, high) is empty, so the search is that point, closed.
  const point = high <= low;
  switch (prefix) {
    // Contained in [low, high): `start < high` keeps a point at `high` out and bounds the index range.
    case 'eq':
      return [[b('start', '>=', low - slack(low)), b('start', point ? '<=' : '<', high), b('end', '<=', high + slack(high))]];
    case 'ne':
      return [[b('start', '<', low - slack(low))], [b('start', point ? '>' : '>=', high)], [b('end', '>', high + slack(high))]];
    // Some value of the row above v: a range reaches past v, a point lies past it.
    case 'gt':
      return [[b('end', '>', v)]];
    case 'lt':
      return [[b('start', '<', v)]];
    // ge: a point at or above v, or a range reaching past v; le: anything starting at or
    // below v (a range includes its start).
    case 'ge':
      return [[b('start', '>=', v)], [b('end', '>', v)]];
    case 'le':
      return [[b('start', '<=', v)]];
    // Wholly above v, v itself excluded; wholly below (a range may end at v: its end is open).
    case 'sa':
      return [[b('start', '>', v)]];
    case 'eb':
      return [[b('start', '<', v), b('end', '<=', v)]];
    // Overlap with the widened range; the second group adds a point exactly at its start.
    case 'ap':
      return [
        [b('start', '<', high), b('end', '>', low)],
        [b('start', '>=', low), b('start', '<', high)],
      ];
  }
}
