/**
 * Between FHIR values and form values. Forms edit a resource without losing what they do
 * not show: each form starts from the resource it edits (the "base") and writes its fields
 * back into a copy; `prune` then drops what became empty.
 */
import type { CodeableConcept, Coding, Reference, Resource } from '@medplum/fhirtypes';
import type { ConceptValue } from './fields';
import { carryDecimalTexts } from '../../shared/fhir/exact-json';

/** Drops empty strings, undefined, null, empty arrays and empty objects, recursively. */
export function prune<T>(value: T): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return (value.trim() === '' ? undefined : value) as T | undefined;
  if (Array.isArray(value)) {
    const out = value.map((v) => prune(v)).filter((v) => v !== undefined);
    return (out.length ? out : undefined) as T | undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return (Object.keys(out).length ? out : undefined) as T | undefined;
  }
  return value;
}

/** A resource with what became empty removed (the resourceType always stays). */
export function pruneResource<T extends Resource>(r: T): T {
  return carryDecimalTexts(r, { ...(prune(r) ?? {}), resourceType: r.resourceType } as T);
}

/** A deep copy that keeps the exact text of decimals (`1.10`, shared/fhir/exact-json.ts). */
export const clone = <T>(v: T): T => (v === undefined ? v : carryDecimalTexts(v, JSON.parse(JSON.stringify(v)) as T));

export function conceptValue(c: CodeableConcept | Coding | undefined): ConceptValue {
  if (!c) return { text: '', code: '', system: '', display: '' };
  const coding: Coding | undefined = 'coding' in c || 'text' in c ? (c as CodeableConcept).coding?.[0] : (c as Coding);
  return { text: (c as CodeableConcept).text ?? '', code: coding?.code ?? '', system: coding?.system ?? '', display: coding?.display ?? '' };
}

/** The form's concept back as a CodeableConcept, keeping the base's other details when its code did not change. */
export function toConcept(v: ConceptValue | undefined, base?: CodeableConcept): CodeableConcept | undefined {
  if (!v) return base;
  const text = v.text.trim();
  const code = v.code.trim();
  if (!text && !code) return undefined;
  const first = base?.coding?.[0];
  const sameCode = !!first && first.code === code && (first.system ?? '') === v.system.trim();
  const out: CodeableConcept = { ...(base ?? {}) };
  if (code) {
    out.coding = sameCode ? base!.coding : [{ ...(v.system.trim() ? { system: v.system.trim() } : {}), code, ...(v.display ? { display: v.display } : {}) }];
  } else delete out.coding;
  if (text) out.text = text;
  else delete out.text;
  return out;
}

export function toCoding(v: ConceptValue | undefined, base?: Coding): Coding | undefined {
  if (!v || !v.code.trim()) return undefined;
  if (base && base.code === v.code.trim() && (base.system ?? '') === v.system.trim()) return base;
  return { ...(v.system.trim() ? { system: v.system.trim() } : {}), code: v.code.trim(), ...(v.display ? { display: v.display } : {}) };
}

export const referenceValue = (r: Reference | undefined) => r?.reference ?? '';

export function toReference<R extends Reference>(value: string, base?: R): R | undefined {
  const ref = value.trim();
  if (!ref) return undefined;
  if (base?.reference === ref) return base;
  return { reference: ref } as R;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A full FHIR dateTime as the `YYYY-MM-DDTHH:mm` a datetime-local input shows (local time); '' otherwise. */
export function localDateTime(iso: string | undefined): string {
  if (!iso || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export const nowLocal = (now = new Date()) => localDateTime(now.toISOString());

/**
 * A datetime-local value as a FHIR dateTime with this computer's offset. When it still
 * shows `original` (the stored value), `original` is kept as it was (seconds, zone, or a
 * partial date the input could not show).
 */
export function isoFromLocal(local: string, original?: string): string | undefined {
  if (original !== undefined && localDateTime(original) === local) return original;
  if (!local) return undefined;
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return local;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export const words = (s: string) => s.split(/\s+/).map((w) => w.trim()).filter(Boolean);

/** `Patient/123` when `r` is a reference to a patient. */
export function patientIdOf(r: Resource | undefined): string | undefined {
  if (!r) return undefined;
  if (r.resourceType === 'Patient') return r.id;
  const any = r as unknown as Record<string, Reference | undefined>;
  for (const key of ['subject', 'patient', 'beneficiary']) {
    const m = /^(?:.*\/)?Patient\/([^/]+)$/.exec(any[key]?.reference ?? '');
    if (m) return m[1];
  }
  return undefined;
}
