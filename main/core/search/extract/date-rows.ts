/**
 * Date rows as half-open millisecond ranges [start, end). A partial date covers its whole
 * precision (`2020-03` is all of March). A dateTime without a zone is, per R4, in the
 * server's local time; Flint indexes it as UTC — the same choice as the query side
 * (fhir/fhir-dates.ts), so index and query agree whatever the machine's zone is.
 * Timing: only its outer limits count (R4 search page), i.e. the span of its events and
 * its repeat.boundsPeriod.
 */
import { dateRange } from '../../fhir/fhir-dates';
import { OPEN_HIGH, OPEN_LOW, type DateRow } from './rows';
import { arr, obj, str, type FhirValue } from './values';

interface Range {
  start: number;
  end: number;
}

export function dateRows(param: string, v: FhirValue): DateRow[] {
  const r = rangeOf(v);
  return r ? [{ param, start: r.start, end: r.end }] : [];
}

function rangeOf(v: FhirValue): Range | null {
  if (typeof v.value === 'string') return parse(v.value);
  const o = obj(v.value);
  if (v.type === 'Period' || (v.type !== 'Timing' && ('start' in o || 'end' in o))) return period(o);
  if (v.type === 'Timing' || 'event' in o || 'repeat' in o) return timing(o);
  return null;
}

export function parse(value: string): Range | null {
  try {
    return dateRange(value, 'date');
  } catch {
    return null;
  }
}

function period(o: Record<string, unknown>): Range | null {
  const s = str(o.start);
  const e = str(o.end);
  if (!s && !e) return null;
  const start = s ? parse(s) : null;
  const end = e ? parse(e) : null;
  // An unparsable bound is treated like a missing one: open, not an error.
  if (!start && !end) return null;
  return { start: start?.start ?? OPEN_LOW, end: end?.end ?? OPEN_HIGH };
}

function timing(o: Record<string, unknown>): Range | null {
  const ranges: Range[] = [];
  for (const e of arr(o.event)) {
    const r = typeof e === 'string' ? parse(e) : null;
    if (r) ranges.push(r);
  }
  const bounds = period(obj(obj(o.repeat).boundsPeriod));
  if (ranges.length === 0) return bounds;
  const start = Math.min(...ranges.map((r) => r.start));
  const end = Math.max(...ranges.map((r) => r.end));
  if (!bounds) return { start, end };
  // An open end of the bounds says nothing beyond the events themselves.
  return {
    start: bounds.start === OPEN_LOW ? start : Math.min(start, bounds.start),
    end: bounds.end === OPEN_HIGH ? end : Math.max(end, bounds.end),
  };
}
