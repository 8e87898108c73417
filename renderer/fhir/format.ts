/** How FHIR data types read on screen. Small and FHIR-specific, hence hand-written. */
import type { CodeableConcept, Coding, HumanName, Identifier, Period, Quantity, Reference, Resource } from '@medplum/fhirtypes';

export function humanName(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.find((x) => x.use !== 'old') ?? names?.[0];
  if (!n) return '(no name)';
  if (n.text) return n.text;
  const given = (n.given ?? []).join(' ');
  return [n.family, given].filter(Boolean).join(', ') || '(no name)';
}

export function codingText(c: Coding | undefined): string {
  return c?.display ?? c?.code ?? '';
}

export function conceptText(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.map(codingText).find(Boolean) ?? '';
}

export function quantityText(q: Quantity | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
}

export function referenceText(r: Reference | undefined): string {
  return r?.display ?? r?.reference ?? '';
}

export function identifierText(ids: Identifier[] | undefined): string {
  return (ids ?? []).map((i) => i.value).filter(Boolean).join(', ');
}

/** A FHIR date or dateTime for people: "12 Mar 2024" or "12 Mar 2024, 14:05". */
export function dateText(value: string | undefined): string {
  if (!value) return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) return new Date(`${value}-01T00:00:00Z`).toLocaleDateString(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' });
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function periodText(p: Period | undefined): string {
  if (!p) return '';
  return [dateText(p.start), dateText(p.end)].filter(Boolean).join(' – ');
}

export function ageText(birthDate: string | undefined, now = new Date()): string {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}/.test(birthDate)) return '';
  const b = new Date(`${birthDate.slice(0, 10)}T00:00:00Z`);
  let age = now.getUTCFullYear() - b.getUTCFullYear();
  const m = now.getUTCMonth() - b.getUTCMonth();
  if (m < 0 || (m === 0 && now.getUTCDate() < b.getUTCDate())) age--;
  return age >= 0 ? `${age} y` : '';
}

/** A one-line summary of any resource, for lists and timelines. */
export function resourceSummary(r: Resource): string {
  const any = r as unknown as Record<string, unknown>;
  if (r.resourceType === 'Patient' || r.resourceType === 'Practitioner' || r.resourceType === 'RelatedPerson') return humanName(any.name as HumanName[]);
  for (const key of ['code', 'vaccineCode', 'medicationCodeableConcept', 'type', 'class']) {
    const v = any[key];
    if (v && typeof v === 'object') {
      const text = Array.isArray(v) ? conceptText(v[0] as CodeableConcept) : 'coding' in v || 'text' in v ? conceptText(v as CodeableConcept) : codingText(v as Coding);
      if (text) return text;
    }
  }
  if (typeof any.name === 'string') return any.name;
  if (typeof any.title === 'string') return any.title;
  return `${r.resourceType}/${r.id ?? ''}`;
}

/** The clinically relevant date of a resource, for timelines and sorting. */
export function resourceDate(r: Resource): string | undefined {
  const any = r as unknown as Record<string, unknown>;
  for (const key of ['effectiveDateTime', 'occurrenceDateTime', 'onsetDateTime', 'recordedDate', 'authoredOn', 'issued', 'date', 'recorded', 'created']) {
    if (typeof any[key] === 'string') return any[key] as string;
  }
  for (const key of ['effectivePeriod', 'period', 'performedPeriod']) {
    const p = any[key] as Period | undefined;
    if (p?.start) return p.start;
  }
  return r.meta?.lastUpdated;
}
