/**
 * The audit viewer (auditors): the AuditEvents this workstation recorded, filtered by who
 * (a user or an app), patient, action, outcome and days, newest first, 50 a page; one
 * event's details beside the list (`/audit?event=<id>`, so it can be linked); the hash
 * chain's verification; and an NDJSON export of everything the filters match. The filters
 * live in the address, so a view can be reloaded and shared.
 */
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useForm, type UseFormRegisterReturn } from 'react-hook-form';
import { useNavigate, useSearchParams } from 'react-router';
import { linkOf, matches } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { DataTable, type Column, type SortState } from '../ui/DataTable';
import { ErrorNotice } from '../ui/ErrorNotice';
import { timeAgo } from '../sync/sync-text';
import { useNow } from '../sync/use-sync-status';
import { AuditEventDetail } from './AuditEventDetail';
import { actionText, entitiesText, outcomeText, outcomeTone, subtypeText, typeText, whoOf, whoText } from './audit-format';
import {
  ACTIONS,
  EMPTY_FILTERS,
  OUTCOMES,
  PAGE_SIZE,
  criteriaOf,
  exportFileName,
  filterProblem,
  filtersFromUrl,
  filtersToUrl,
  searchOf,
  type AuditFilters,
} from './audit-query';

export const AUDIT_KEY = ['flint', 'audit'] as const;

export function AuditPage() {
  const [params] = useSearchParams();
  const filters = filtersFromUrl(params);
  const filterKey = filtersToUrl(filters).toString();
  const eventId = params.get('event') ?? undefined;
  return (
    <section className="audit-page" aria-labelledby="audit-title">
      <div className="page-header">
        <h1 id="audit-title">Audit trail</h1>
      </div>
      <Verification />
      <FilterForm key={filterKey} filters={filters} />
      <div className={eventId ? 'audit-layout with-detail' : 'audit-layout'}>
        <Results key={filterKey} filters={filters} selected={eventId} />
        {eventId ? <AuditEventDetail id={eventId} closeTo={`/audit${filterKey ? `?${filterKey}` : ''}`} /> : null}
      </div>
    </section>
  );
}

// ---- The chain ----------------------------------------------------------------------

function Verification() {
  const { flint } = useFlint();
  const now = useNow();
  const verify = useQuery({ queryKey: [...AUDIT_KEY, 'verify'], queryFn: flint.verifyAudit, staleTime: Infinity, retry: false });
  const v = verify.data;
  return (
    <section className="card audit-verify" aria-labelledby="verify-title">
      <h2 id="verify-title" className="card-title">
        Tamper check
      </h2>
      <div role="status" aria-live="polite" aria-busy={verify.isFetching}>
        {verify.isFetching ? (
          <p className="loading">Checking every event against the hash chain…</p>
        ) : v ? (
          v.ok ? (
            <p>
              <span className="badge ok">Chain intact</span> {v.events.toLocaleString()} events checked {timeAgo(v.checkedAt, now)} ({dateText(v.checkedAt)}): none was changed, removed or
              reordered.
            </p>
          ) : (
            <p>
              <span className="badge error">Problem found</span> The audit trail does not verify: {v.problem ?? 'unknown problem'}. Checked {timeAgo(v.checkedAt, now)} (
              {v.events.toLocaleString()} events before the problem). Tell your administrator: the records may have been tampered with or damaged.
            </p>
          )
        ) : null}
      </div>
      <ErrorNotice error={verify.error} title="The audit trail could not be checked" />
      <button type="button" onClick={() => void verify.refetch()} disabled={verify.isFetching}>
        Verify now
      </button>
    </section>
  );
}

// ---- Filters ------------------------------------------------------------------------

function FilterForm({ filters }: { filters: AuditFilters }) {
  const navigate = useNavigate();
  const form = useForm<AuditFilters>({ defaultValues: filters });
  const { register, handleSubmit, watch, setError, formState } = form;
  const whoKind = watch('whoKind');
  const submit = handleSubmit((f) => {
    const problem = filterProblem(f);
    if (problem) {
      setError(problem.field, { type: 'value', message: problem.message }, { shouldFocus: true });
      return;
    }
    const q = filtersToUrl(f).toString();
    navigate(`/audit${q ? `?${q}` : ''}`);
  });
  const err = formState.errors;
  return (
    <form className="card audit-filters" onSubmit={(e) => void submit(e)} aria-labelledby="filters-title" noValidate>
      <h2 id="filters-title" className="card-title">
        Filters
      </h2>
      <div className="audit-filter-grid">
        <div>
          <label htmlFor="audit-who-kind">Who</label>
          <select id="audit-who-kind" {...register('whoKind')}>
            <option value="user">A user</option>
            <option value="app">An app</option>
          </select>
        </div>
        <div>
          <label htmlFor="audit-who">{whoKind === 'app' ? 'App client id' : 'User name'}</label>
          <input id="audit-who" type="search" autoComplete="off" {...register('who')} />
        </div>
        <div>
          <label htmlFor="audit-patient">Patient id</label>
          <input
            id="audit-patient"
            type="search"
            autoComplete="off"
            placeholder="e.g. 123"
            aria-invalid={err.patient ? true : undefined}
            aria-describedby={err.patient ? 'audit-patient-error' : undefined}
            {...register('patient')}
          />
          {err.patient ? (
            <p className="field-error" id="audit-patient-error">
              {err.patient.message}
            </p>
          ) : null}
        </div>
        <CodeChoice id="audit-action" label="Action" codes={ACTIONS} field={register('action')} />
        <CodeChoice id="audit-outcome" label="Outcome" codes={OUTCOMES} field={register('outcome')} />
        <div>
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="date" {...register('from')} />
        </div>
        <div>
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" type="date" aria-invalid={err.to ? true : undefined} aria-describedby={err.to ? 'audit-to-error' : undefined} {...register('to')} />
          {err.to ? (
            <p className="field-error" id="audit-to-error">
              {err.to.message}
            </p>
          ) : null}
        </div>
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          Search
        </button>
        <button
          type="button"
          onClick={() => {
            form.reset(EMPTY_FILTERS);
            navigate('/audit');
          }}
        >
          Clear filters
        </button>
      </div>
    </form>
  );
}

// ---- Results ------------------------------------------------------------------------

function Results({ filters, selected }: { filters: AuditFilters; selected: string | undefined }) {
  const { fhir } = useFlint();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [sort, setSort] = useState<SortState>({ key: 'date', direction: 'desc' });
  /** The pages visited: undefined is the first page; the last is shown. */
  const [pages, setPages] = useState<Array<string | undefined>>([undefined]);
  const pageUrl = pages[pages.length - 1];
  const search = searchOf(filters, sort.direction === 'asc' ? 'date' : '-date').toString();
  const result = useQuery({
    queryKey: [...AUDIT_KEY, 'search', search, pageUrl ?? ''],
    queryFn: ({ signal }) => (pageUrl ? fhir.page<AuditEvent>(pageUrl, signal) : fhir.search<AuditEvent>('AuditEvent', search, signal)),
    staleTime: 10_000,
  });
  const bundle: Bundle<AuditEvent> | undefined = result.data;
  const events = matches(bundle);
  const next = linkOf(bundle, 'next');
  const heading = useRef<HTMLHeadingElement>(null);
  const first = (pages.length - 1) * PAGE_SIZE;
  const open = (e: AuditEvent) => {
    const q = new URLSearchParams(params);
    q.set('event', e.id ?? '');
    navigate(`/audit?${q.toString()}`);
  };
  const turn = (to: Array<string | undefined>) => {
    setPages(to);
    heading.current?.focus();
  };
  const columns: Array<Column<AuditEvent>> = [
    {
      id: 'time',
      header: 'Time',
      sortKey: 'date',
      width: '18%',
      cell: (e) => (
        <>
          {e.id === selected ? <span className="visually-hidden">Shown: </span> : null}
          <time dateTime={e.recorded} className={e.id === selected ? 'audit-selected' : undefined}>
            {timeOf(e.recorded)}
          </time>
        </>
      ),
    },
    { id: 'who', header: 'User / app', width: '17%', cell: (e) => whoText(whoOf(e)) },
    { id: 'action', header: 'Action', width: '10%', cell: (e) => actionText(e.action) },
    {
      id: 'type',
      header: 'Type / subtype',
      width: '17%',
      cell: (e) => (
        <>
          {typeText(e)}
          {subtypeText(e) ? (
            <>
              <br />
              <small>{subtypeText(e)}</small>
            </>
          ) : null}
        </>
      ),
    },
    { id: 'entity', header: 'Entity', cell: (e) => entitiesText(e) },
    { id: 'outcome', header: 'Outcome', width: '13%', cell: (e) => <span className={`badge ${outcomeTone(e.outcome)}`}>{outcomeText(e.outcome)}</span> },
  ];
  const order = sort.direction === 'asc' ? 'oldest first' : 'newest first';
  return (
    <section className="audit-results" aria-labelledby="results-title">
      <div className="page-header">
        <h2 id="results-title" ref={heading} tabIndex={-1}>
          Events
        </h2>
        <ExportButton filters={filters} />
      </div>
      <ErrorNotice error={result.error} title="The audit trail could not be searched" />
      <p className="hint" role="status">
        {result.isPending
          ? 'Searching the audit trail…'
          : bundle
            ? events.length === 0
              ? 'No events match these filters.'
              : `Events ${(first + 1).toLocaleString()}–${(first + events.length).toLocaleString()}${bundle.total !== undefined ? ` of ${bundle.total.toLocaleString()}` : ''}, ${order}. Choose an event (click it, or Enter on a row) for its details.`
            : ''}
      </p>
      <div className="audit-table">
        <DataTable
          label="Audit events"
          columns={columns}
          rows={events}
          rowKey={(e) => e.id ?? ''}
          sort={sort}
          onSort={(s) => {
            setSort(s);
            setPages([undefined]);
          }}
          onActivate={open}
          empty={result.isPending ? 'Searching…' : 'No events match these filters.'}
          maxHeight={560}
          rowHeight={52}
        />
      </div>
      {pages.length > 1 || next ? (
        <nav className="actions" aria-label="Pages of events">
          <button type="button" disabled={pages.length <= 1 || result.isFetching} onClick={() => turn(pages.slice(0, -1))}>
            Previous page
          </button>
          <button type="button" disabled={!next || result.isFetching} onClick={() => next && turn([...pages, next])}>
            Next page
          </button>
        </nav>
      ) : null}
    </section>
  );
}

/** "12 Mar 2026, 14:05:09": seconds matter in an audit trail. */
function timeOf(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// ---- Export -------------------------------------------------------------------------

/** Hands text to the browser as a file download (a blob: URL clicked through a download link). */
export function download(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function ExportButton({ filters }: { filters: AuditFilters }) {
  const { flint } = useFlint();
  const exporting = useMutation({
    mutationFn: async () => {
      const text = await flint.exportAudit(criteriaOf(filters).toString());
      download(text, exportFileName(), 'application/fhir+ndjson');
      return text.split('\n').filter((l) => l.trim() !== '').length;
    },
  });
  return (
    <div className="audit-export">
      <button type="button" onClick={() => exporting.mutate()} disabled={exporting.isPending}>
        {exporting.isPending ? 'Exporting…' : 'Export as NDJSON'}
      </button>
      <span role="status" className="hint">
        {exporting.data !== undefined ? `Exported ${exporting.data.toLocaleString()} events matching the filters (the file contains patient data: keep it safe).` : ''}
      </span>
      <ErrorNotice error={exporting.error} title="The export failed" />
    </div>
  );
}

/** A labelled select of codes with their words, "Any" first. */
function CodeChoice({ id, label, codes, field }: { id: string; label: string; codes: Readonly<Record<string, string>>; field: UseFormRegisterReturn }) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <select id={id} {...field}>
        <option value="">Any</option>
        {Object.entries(codes).map(([code, text]) => (
          <option key={code} value={code}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
