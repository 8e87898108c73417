/**
 * The patient's record as one list in clinical-date order (newest first; entries without
 * a date last), and its filters: by resource type and by a date range of whole days.
 */
import type { Resource } from '@medplum/fhirtypes';
import { resourceDate, resourceSummary } from '../fhir/format';
import { timeOf } from './vitals';

export interface TimelineItem {
  type: string;
  id: string;
  /** The resource's own date text (fhir/format resourceDate). */
  date: string | undefined;
  /** `date` in milliseconds, local midnight for a date without a time. */
  t: number | undefined;
  summary: string;
}

/**
 * Types `$everything` brings because the record refers to them (who, where, what drug),
 * not events of the patient's care: kept off the timeline.
 */
export const NOT_EVENTS = new Set(['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication', 'Substance', 'HealthcareService', 'Endpoint']);

export function toTimeline(resources: readonly Resource[], patientId: string): TimelineItem[] {
  const items: TimelineItem[] = [];
  for (const r of resources) {
    if (!r.id || NOT_EVENTS.has(r.resourceType) || (r.resourceType === 'Patient' && r.id === patientId)) continue;
    const date = resourceDate(r);
    items.push({ type: r.resourceType, id: r.id, date, t: timeOf(date), summary: resourceSummary(r) });
  }
  return items.sort(byDateDesc);
}

function byDateDesc(a: TimelineItem, b: TimelineItem): number {
  if (a.t === undefined || b.t === undefined) {
    if (a.t !== b.t) return a.t === undefined ? 1 : -1;
  } else if (a.t !== b.t) return b.t - a.t;
  return a.type === b.type ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.type < b.type ? -1 : 1;
}

/** The types present, with how many of each, by name. */
export function typeCounts(items: readonly TimelineItem[]): Array<{ type: string; count: number }> {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.type, (counts.get(i.type) ?? 0) + 1);
  return [...counts].map(([type, count]) => ({ type, count })).sort((a, b) => a.type.localeCompare(b.type));
}

export interface TimelineFilter {
  /** Types not shown (so that types arriving later are shown). */
  hidden: ReadonlySet<string>;
  /** YYYY-MM-DD, inclusive, local days; '' for no bound. */
  from: string;
  to: string;
}

const dayStart = (day: string): number | undefined => (/^\d{4}-\d{2}-\d{2}$/.test(day) ? timeOf(day) : undefined);

export function filterTimeline(items: readonly TimelineItem[], f: TimelineFilter): TimelineItem[] {
  const from = dayStart(f.from);
  const toStart = dayStart(f.to);
  // The end of the `to` day: the next day's local midnight.
  const to = toStart === undefined ? undefined : new Date(new Date(toStart).setDate(new Date(toStart).getDate() + 1)).getTime();
  if (from === undefined && to === undefined && f.hidden.size === 0) return items as TimelineItem[];
  return items.filter((i) => {
    if (f.hidden.has(i.type)) return false;
    if (from !== undefined && (i.t === undefined || i.t < from)) return false;
    if (to !== undefined && (i.t === undefined || i.t >= to)) return false;
    return true;
  });
}
