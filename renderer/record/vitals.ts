/**
 * Vital-sign series out of a patient's Observations, for the trend charts: heart rate
 * (LOINC 8867-4), blood pressure (the 85354-6 panel, or the older 55284-4, with its
 * 8480-6 systolic and 8462-4 diastolic components; a lone 8480-6 or 8462-4 counts too),
 * body weight (29463-7, in kg whatever the unit) and BMI (39156-5). Observations entered
 * in error or cancelled, and values that are not numbers, are left out.
 */
import type { CodeableConcept, Observation, Quantity } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';

export const CODES = {
  heartRate: '8867-4',
  bpPanel: '85354-6',
  bpPanelOld: '55284-4',
  systolic: '8480-6',
  diastolic: '8462-4',
  weight: '29463-7',
  bmi: '39156-5',
} as const;

export interface VitalPoint {
  /** Milliseconds since the epoch. */
  t: number;
  /** The Observation's own date text. */
  date: string;
  value: number;
  /** The Observation it came from. */
  id: string;
}

export interface VitalSeries {
  heartRate: VitalPoint[];
  systolic: VitalPoint[];
  diastolic: VitalPoint[];
  weight: VitalPoint[];
  bmi: VitalPoint[];
}

/** Whether a concept carries a LOINC code (or the code with no system at all). */
export function hasLoinc(c: CodeableConcept | undefined, code: string): boolean {
  return (c?.coding ?? []).some((x) => x.code === code && (x.system === undefined || x.system === LOINC));
}

/** The observation's clinical time. */
export function effectiveOf(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.effectivePeriod?.end ?? o.issued;
}

/** A FHIR date or dateTime as milliseconds; dates without a time are local midnight. */
export function timeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value);
  if (m) return new Date(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1).getTime();
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

const KG_PER_LB = 0.45359237;

/** A body weight in kg: g, kg, [lb_av] (and lb, lbs) are understood; anything else is left out. */
export function weightInKg(q: Quantity): number | undefined {
  if (typeof q.value !== 'number') return undefined;
  const unit = (q.code ?? q.unit ?? 'kg').trim();
  if (unit === 'kg') return q.value;
  if (unit === 'g') return q.value / 1000;
  if (unit === '[lb_av]' || unit === 'lb' || unit === 'lbs') return Math.round(q.value * KG_PER_LB * 100) / 100;
  return undefined;
}

const numberOf = (q: Quantity | undefined): number | undefined => (typeof q?.value === 'number' && Number.isFinite(q.value) ? q.value : undefined);

const SKIPPED_STATUS = new Set(['entered-in-error', 'cancelled']);

export function extractVitals(observations: readonly Observation[]): VitalSeries {
  const out: VitalSeries = { heartRate: [], systolic: [], diastolic: [], weight: [], bmi: [] };
  for (const o of observations) {
    if (o.resourceType !== 'Observation' || SKIPPED_STATUS.has(o.status)) continue;
    const date = effectiveOf(o);
    const t = timeOf(date);
    if (t === undefined || date === undefined) continue;
    const id = o.id ?? '';
    const add = (series: VitalPoint[], value: number | undefined) => {
      if (value !== undefined && Number.isFinite(value)) series.push({ t, date, value, id });
    };
    if (hasLoinc(o.code, CODES.heartRate)) add(out.heartRate, numberOf(o.valueQuantity));
    else if (hasLoinc(o.code, CODES.weight)) add(out.weight, o.valueQuantity ? weightInKg(o.valueQuantity) : undefined);
    else if (hasLoinc(o.code, CODES.bmi)) add(out.bmi, numberOf(o.valueQuantity));
    else if (hasLoinc(o.code, CODES.bpPanel) || hasLoinc(o.code, CODES.bpPanelOld)) {
      for (const c of o.component ?? []) {
        if (hasLoinc(c.code, CODES.systolic)) add(out.systolic, numberOf(c.valueQuantity));
        else if (hasLoinc(c.code, CODES.diastolic)) add(out.diastolic, numberOf(c.valueQuantity));
      }
    } else if (hasLoinc(o.code, CODES.systolic)) add(out.systolic, numberOf(o.valueQuantity));
    else if (hasLoinc(o.code, CODES.diastolic)) add(out.diastolic, numberOf(o.valueQuantity));
  }
  for (const s of Object.values(out) as VitalPoint[][]) s.sort((a, b) => a.t - b.t);
  return out;
}

/** Series on one time axis: each series' value at each distinct time (ms), or null. */
function align(series: VitalPoint[][]): { times: number[]; ys: Array<Array<number | null>> } {
  const times = [...new Set(series.flatMap((s) => s.map((p) => p.t)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const col: Array<number | null> = times.map(() => null);
    for (const p of s) col[at.get(p.t)!] = p.value;
    return col;
  });
  return { times, ys };
}

/**
 * Series on one time axis for a chart (uPlot's shape): x in seconds, each series' value
 * at that time or null. Points at the same instant share an x.
 */
export function alignSeries(...series: VitalPoint[][]): { xs: number[]; ys: Array<Array<number | null>> } {
  const { times, ys } = align(series);
  return { xs: times.map((t) => t / 1000), ys };
}

/** Rows of a chart's data table, newest first: the date text and one value per series. */
export function tableRows(...series: VitalPoint[][]): Array<{ t: number; date: string; values: Array<number | null> }> {
  const { times, ys } = align(series);
  const dates = new Map<number, string>();
  for (const s of series) for (const p of s) if (!dates.has(p.t)) dates.set(p.t, p.date);
  return times.map((t, i) => ({ t, date: dates.get(t) ?? '', values: ys.map((col) => col[i] ?? null) })).reverse();
}
