/**
 * Number and quantity rows as ranges. R4 gives a number an implicit precision range: 1.5
 * means [1.45, 1.55), and 1.50 [1.495, 1.505). JSON parsing drops trailing zeros (1.50
 * reads as 1.5); their text is kept beside the resource (shared/fhir/exact-json.ts), and
 * `NumberTexts` hands it to the rows: a number whose text was kept takes its precision
 * from that text, any other from its shortest form. Integer-typed elements are exact
 * (low === high). Comparators and Range ends open the range.
 */
import { decimalTextsOf } from '../../../../shared/fhir/exact-json';
import { OPEN_HIGH, OPEN_LOW, type NumberRow, type QuantityRow } from './rows';
import { toCanonical } from './ucum';
import { obj, str, type FhirValue } from './values';

const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'integer64']);
const UCUM = 'http://unitsofmeasure.org';
const ISO_4217 = 'urn:iso:std:iso:4217';

/**
 * The exact texts of a resource's numbers by value. Were one value written twice with
 * different precision (5.4 and 5.40 in one resource), the coarser text wins: its wider
 * range is what the value was before exact texts were kept.
 */
export type NumberTexts = ReadonlyMap<number, string>;

export function numberTextsOf(resource: unknown): NumberTexts | undefined {
  const texts = decimalTextsOf(resource);
  if (!texts) return undefined;
  const out = new Map<number, string>();
  for (const text of Object.values(texts)) {
    const n = Number(text);
    const prev = out.get(n);
    if (prev === undefined || decimals(text) < decimals(prev)) out.set(n, text);
  }
  return out;
}

export function numberRows(param: string, v: FhirValue, texts?: NumberTexts): NumberRow[] {
  const n = toNumber(v.value);
  if (n === null) return [];
  const r = INTEGER_TYPES.has(v.type) ? { low: n, high: n } : implicitRange(n, texts);
  return [{ param, ...r }];
}

export function implicitRange(n: number, texts?: NumberTexts): { low: number; high: number } {
  const half = 0.5 * 10 ** -decimals(texts?.get(n) ?? String(n));
  return { low: n - half, high: n + half };
}

/** Digits after the point of a number's text (exponent form included: 1.5e-7 -> 8). */
function decimals(text: string): number {
  const m = /^-?\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return 0;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

function toNumber(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

export function quantityRows(param: string, v: FhirValue, texts?: NumberTexts): QuantityRow[] {
  const o = obj(v.value);
  if (v.type === 'Range' || (v.type !== 'Quantity' && ('low' in o || 'high' in o))) return range(param, o, texts);
  if (v.type === 'SampledData') return [];
  const n = toNumber(o.value);
  if (n === null) return [];
  const r = implicitRange(n, texts);
  const comparator = str(o.comparator);
  if (comparator === '<' || comparator === '<=') r.low = OPEN_LOW;
  if (comparator === '>' || comparator === '>=') r.high = OPEN_HIGH;
  if (v.type === 'Money' || ('currency' in o && !('code' in o))) {
    return [withCanonical({ param, system: ISO_4217, code: str(o.currency), unit: null, ...r })];
  }
  return [withCanonical({ param, system: str(o.system), code: str(o.code), unit: str(o.unit), ...r })];
}

/** A Range is one row from low's lower bound to high's upper bound; a missing end is open. */
function range(param: string, o: Record<string, unknown>, texts?: NumberTexts): QuantityRow[] {
  const low = obj(o.low);
  const high = obj(o.high);
  const lo = toNumber(low.value);
  const hi = toNumber(high.value);
  if (lo === null && hi === null) return [];
  const unitOf = lo !== null ? low : high;
  return [
    withCanonical({
      param,
      system: str(unitOf.system),
      code: str(unitOf.code),
      unit: str(unitOf.unit),
      low: lo === null ? OPEN_LOW : implicitRange(lo, texts).low,
      high: hi === null ? OPEN_HIGH : implicitRange(hi, texts).high,
    }),
  ];
}

function withCanonical(row: QuantityRow): QuantityRow {
  if (row.system !== UCUM || !row.code) return { ...row, canonicalCode: null, canonicalLow: null, canonicalHigh: null };
  const low = row.low === OPEN_LOW ? null : toCanonical(row.code, row.low);
  const high = row.high === OPEN_HIGH ? null : toCanonical(row.code, row.high);
  const code = low?.code ?? high?.code ?? null;
  if (!code) return { ...row, canonicalCode: null, canonicalLow: null, canonicalHigh: null };
  return {
    ...row,
    canonicalCode: code,
    canonicalLow: low ? low.value : OPEN_LOW,
    canonicalHigh: high ? high.value : OPEN_HIGH,
  };
}
