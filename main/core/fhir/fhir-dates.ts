/** FHIR date/dateTime/instant parameter values as half-open millisecond ranges. */
import { badRequest } from '../../../shared/fhir/outcome';

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** [start, end) of the period a (possibly partial) date denotes; zone-less times as UTC. */
export function dateRange(value: string, name: string): { start: number; end: number } {
  const m = DATE_RE.exec(value);
  if (!m) throw badRequest(`${name} must be a FHIR date, dateTime or instant`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (!inRange(mo, 1, 12) || !inRange(d, 1, daysIn(Number(y), Number(mo ?? 1))) || !inRange(h, 0, 23) || !inRange(mi, 0, 59) || !inRange(s, 0, 59)) {
    throw badRequest(`${name} is not a date that exists`);
  }
  if (tz && tz !== 'Z' && (Number(tz.slice(1, 3)) > 14 || Number(tz.slice(4, 6)) > 59)) throw badRequest(`${name} has an impossible time zone offset`);
  const offset = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) : 0;
  const utc = (Y: number, M: number, D: number, H = 0, Mi = 0, S = 0, ms = 0) =>
    Date.UTC(Y, M, D, H, Mi, S, ms) - offset * 60_000;
  const Y = Number(y);
  if (mo === undefined) return { start: utc(Y, 0, 1), end: utc(Y + 1, 0, 1) };
  const M = Number(mo) - 1;
  if (d === undefined) return { start: utc(Y, M, 1), end: utc(Y, M + 1, 1) };
  const D = Number(d);
  if (h === undefined) return { start: utc(Y, M, D), end: utc(Y, M, D + 1) };
  const H = Number(h);
  const Mi = Number(mi);
  if (s === undefined) return { start: utc(Y, M, D, H, Mi), end: utc(Y, M, D, H, Mi + 1) };
  const S = Number(s);
  if (frac === undefined) return { start: utc(Y, M, D, H, Mi, S), end: utc(Y, M, D, H, Mi, S + 1) };
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  return { start: utc(Y, M, D, H, Mi, S, ms), end: utc(Y, M, D, H, Mi, S, ms + 1) };
}

/** A matched part, when present, within [lo, hi]. */
function inRange(part: string | undefined, lo: number, hi: number): boolean {
  return part === undefined || (Number(part) >= lo && Number(part) <= hi);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
