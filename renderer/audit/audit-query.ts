/**
 * The audit viewer's filters, three ways: as the screen's address (`/audit?user=ann&action=R`,
 * so a filtered view can be reloaded and shared), as the FHIR AuditEvent search the core
 * runs (docs/audit.md: `agent:identifier=urn:flint:user|ann&action=R&date=ge...`), and as
 * the export's query (the same criteria, no paging). Pure; tested in audit-query.test.ts.
 */

/** Flint's identifier systems for the agents of its AuditEvents (main/core/audit/audit-codes.ts). */
export const USER_SYSTEM = 'urn:flint:user';
export const CLIENT_SYSTEM = 'urn:flint:client';

export const ACTIONS = { C: 'Create', R: 'Read', U: 'Update', D: 'Delete', E: 'Execute / search' } as const;
export const OUTCOMES = { '0': 'Success', '4': 'Minor failure', '8': 'Serious failure', '12': 'Major failure' } as const;
export type Action = keyof typeof ACTIONS;
export type Outcome = keyof typeof OUTCOMES;

export const PAGE_SIZE = 50;

export interface AuditFilters {
  /** Whose events: a local username or an app's client id. */
  who: string;
  whoKind: 'user' | 'app';
  /** A patient id (or `Patient/<id>`). */
  patient: string;
  action: Action | '';
  outcome: Outcome | '';
  /** Local calendar days, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
}

export const EMPTY_FILTERS: AuditFilters = { who: '', whoKind: 'user', patient: '', action: '', outcome: '', from: '', to: '' };

const isAction = (v: string): v is Action => v in ACTIONS;
const isOutcome = (v: string): v is Outcome => v in OUTCOMES;
/** A real calendar day `YYYY-MM-DD` (not 2026-02-30). */
const isDay = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = localDay(v, 0);
  const [y, m, day] = v.split('-').map(Number);
  return d.getFullYear() === y && d.getMonth() + 1 === m && d.getDate() === day;
};

/** Midnight at the start of a local day, `offsetDays` later. */
function localDay(day: string, offsetDays: number): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + offsetDays, 0, 0, 0, 0);
}

/** Filters from the screen's address; anything unknown or malformed is left out. */
export function filtersFromUrl(q: URLSearchParams): AuditFilters {
  const app = q.get('app')?.trim() ?? '';
  const user = q.get('user')?.trim() ?? '';
  const action = q.get('action') ?? '';
  const outcome = q.get('outcome') ?? '';
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  return {
    who: user || app,
    whoKind: user || !app ? 'user' : 'app',
    patient: q.get('patient')?.trim() ?? '',
    action: isAction(action) ? action : '',
    outcome: isOutcome(outcome) ? outcome : '',
    from: isDay(from) ? from : '',
    to: isDay(to) ? to : '',
  };
}

/** The screen's address for these filters (only what is set). */
export function filtersToUrl(f: AuditFilters): URLSearchParams {
  const q = new URLSearchParams();
  const who = f.who.trim();
  if (who) q.set(f.whoKind === 'app' ? 'app' : 'user', who);
  const patient = patientId(f.patient);
  if (patient) q.set('patient', patient);
  if (f.action) q.set('action', f.action);
  if (f.outcome) q.set('outcome', f.outcome);
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  return q;
}

/** `Patient/123` or `123` → `123`. */
export function patientId(v: string): string {
  return v.trim().replace(/^Patient\//, '');
}

/** A token value escaped as FHIR search asks: `\`, `|`, `,` and `$` are escaped with `\`. */
const escapeValue = (v: string) => v.replace(/[\\|,$]/g, (c) => `\\${c}`);

/**
 * The AuditEvent search criteria for the filters: what both the viewer's search and the
 * export send. Dates are the user's local days, as instants.
 */
export function criteriaOf(f: AuditFilters): URLSearchParams {
  const q = new URLSearchParams();
  const who = f.who.trim();
  if (who) q.append('agent:identifier', `${f.whoKind === 'app' ? CLIENT_SYSTEM : USER_SYSTEM}|${escapeValue(who)}`);
  const patient = patientId(f.patient);
  if (patient) q.append('patient', `Patient/${escapeValue(patient)}`);
  if (f.action) q.append('action', f.action);
  if (f.outcome) q.append('outcome', f.outcome);
  if (f.from && isDay(f.from)) q.append('date', `ge${localDay(f.from, 0).toISOString()}`);
  // The last millisecond of the end day: `le` keeps the whole day.
  if (f.to && isDay(f.to)) q.append('date', `le${new Date(localDay(f.to, 1).getTime() - 1).toISOString()}`);
  return q;
}

/** The viewer's search: the criteria, newest first (unless asked otherwise), one page. */
export function searchOf(f: AuditFilters, sort: '-date' | 'date' = '-date'): URLSearchParams {
  const q = criteriaOf(f);
  q.set('_sort', sort);
  q.set('_count', String(PAGE_SIZE));
  return q;
}

/** A problem with the filters in words, before anything is sent. */
export function filterProblem(f: AuditFilters): { field: keyof AuditFilters; message: string } | undefined {
  if (f.from && f.to && f.from > f.to) return { field: 'to', message: 'The end date is before the start date.' };
  const patient = patientId(f.patient);
  if (patient && !/^[A-Za-z0-9\-.]{1,64}$/.test(patient)) return { field: 'patient', message: 'A patient id is 1–64 letters, digits, - or . (for example 123 or Patient/123).' };
  return undefined;
}

/** The download's file name: `audit-events-<today>.ndjson`. */
export function exportFileName(now: Date = new Date()): string {
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  return `audit-events-${day}.ndjson`;
}
