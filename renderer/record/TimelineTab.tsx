/**
 * Timeline: everything in the patient's compartment (`$everything`, 200 a page, every
 * `next` followed, shown as pages arrive) in clinical-date order, filtered by type and
 * date range. The list is ui/DataTable, virtualized: only the rows in view are in the
 * DOM, so a record of thousands of entries scrolls as smoothly as one of ten. Keyboard:
 * the rows are one tab stop, arrows move, Enter opens.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { linkOf, matches, type FhirApi } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { DataTable, type Column } from '../ui/DataTable';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { MAX_ENTRIES } from './paging';
import { filterTimeline, toTimeline, typeCounts, type TimelineItem } from './timeline';

export const TIMELINE_PAGE = 200;
const ROW_HEIGHT = 37;
const TABLE_HEIGHT = 520;

/** `$everything`, a page at a time (the first is prefetched when the tab's link is reached). */
export function everythingQuery(fhir: FhirApi, patientId: string) {
  return infiniteQueryOptions({
    queryKey: ['record', patientId, 'everything'],
    queryFn: ({ pageParam, signal }): Promise<Bundle> =>
      pageParam ? fhir.page(pageParam, signal) : fhir.everything(patientId, { _count: String(TIMELINE_PAGE) }, signal),
    initialPageParam: '',
    getNextPageParam: (last, pages) => (pages.length * TIMELINE_PAGE < MAX_ENTRIES ? linkOf(last, 'next') : undefined),
  });
}

export function TimelineTab({ patientId }: { patientId: string }) {
  const { fhir } = useFlint();
  const everything = useInfiniteQuery(everythingQuery(fhir, patientId));
  const { hasNextPage, isFetchingNextPage, fetchNextPage, isError } = everything;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isError) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isError, fetchNextPage]);

  const items = useMemo(() => toTimeline(everything.data?.pages.flatMap((p) => matches(p)) ?? [], patientId), [everything.data, patientId]);
  const types = useMemo(() => typeCounts(items), [items]);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const shown = useMemo(() => filterTimeline(items, { hidden, from, to }), [items, hidden, from, to]);

  const toggle = (type: string, on: boolean) =>
    setHidden((h) => {
      const next = new Set(h);
      if (on) next.delete(type);
      else next.add(type);
      return next;
    });
  const loadingMore = everything.hasNextPage || everything.isFetchingNextPage;
  const ids = { from: useId(), to: useId() };

  return (
    <section aria-labelledby="timeline-heading">
      <div className="page-header record-tab-header">
        <h2 id="timeline-heading">Timeline</h2>
      </div>
      <ErrorNotice error={everything.error} title="The record could not be loaded" />
      {everything.isPending ? (
        <Loading label="Loading the record…" />
      ) : (
        <div className="timeline">
          <div className="timeline-filters">
            <fieldset className="timeline-types">
              <legend>Types</legend>
              {types.length === 0 ? <p className="muted-text">Nothing recorded yet.</p> : null}
              {types.map(({ type, count }) => (
                <label key={type} className="check">
                  <input type="checkbox" checked={!hidden.has(type)} onChange={(e) => toggle(type, e.target.checked)} /> {type} <small>({count})</small>
                </label>
              ))}
              {types.length > 1 ? (
                <div className="timeline-type-actions">
                  <button type="button" className="link" onClick={() => setHidden(new Set())}>
                    All types
                  </button>
                  <button type="button" className="link" onClick={() => setHidden(new Set(types.map((t) => t.type)))}>
                    No types
                  </button>
                </div>
              ) : null}
            </fieldset>
            <fieldset className="timeline-dates">
              <legend>Dates</legend>
              <label htmlFor={ids.from}>From</label>
              <input id={ids.from} type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} />
              <label htmlFor={ids.to}>To</label>
              <input id={ids.to} type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
              {from || to ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setFrom('');
                    setTo('');
                  }}
                >
                  Any date
                </button>
              ) : null}
            </fieldset>
          </div>
          <div className="timeline-main">
            <p className="timeline-count" role="status" aria-live="polite">
              {shown.length === items.length ? `${items.length} entries` : `${shown.length} of ${items.length} entries`}
              {loadingMore ? ' (loading more…)' : ''}
            </p>
            {shown.length === 0 && !loadingMore ? <p>{items.length ? 'Nothing matches these filters.' : 'Nothing recorded for this patient yet.'}</p> : <TimelineList items={shown} />}
          </div>
        </div>
      )}
    </section>
  );
}

const COLUMNS: Column<TimelineItem>[] = [
  { id: 'date', header: 'Date', width: '13rem', cell: (i) => (i.date ? dateText(i.date) : <small>No date</small>) },
  { id: 'type', header: 'Type', width: '13rem', cell: (i) => i.type },
  {
    id: 'summary',
    header: 'Summary',
    // The row is the keyboard stop (Enter opens it); the link is for the mouse and for
    // opening in a new window, and must not open the row a second time.
    cell: (i) => (
      <Link to={itemPath(i)} tabIndex={-1} onClick={(e) => e.stopPropagation()}>
        {i.summary || `${i.type}/${i.id}`}
      </Link>
    ),
  },
];

const itemPath = (i: TimelineItem) => `/r/${i.type}/${encodeURIComponent(i.id)}`;

function TimelineList({ items }: { items: TimelineItem[] }) {
  const navigate = useNavigate();
  return (
    <DataTable
      label="Timeline"
      columns={COLUMNS}
      rows={items}
      rowKey={(i) => `${i.type}/${i.id}`}
      onActivate={(i) => void navigate(itemPath(i))}
      maxHeight={TABLE_HEIGHT}
      rowHeight={ROW_HEIGHT}
    />
  );
}
