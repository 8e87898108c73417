/**
 * Maintenance: rebuilding the search index (after custom SearchParameters, or when search
 * results look wrong), with its progress as it runs (GET /flint/reindex/events). Searches
 * wait while it runs; reads and saves go on (docs/flint-api.md).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId } from 'react';
import type { ReindexStatus } from '../../shared/api/reindex';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';

export const REINDEX_KEY = ['flint', 'reindex'] as const;

export function MaintenanceTab() {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const status = useQuery({ queryKey: REINDEX_KEY, queryFn: flint.reindexStatus });
  const running = status.data?.state === 'running';
  // While it runs, follow it live; the stream ends when the job does.
  useEffect(() => {
    if (!running) return;
    const stop = new AbortController();
    flint
      .watchReindex((s) => queries.setQueryData(REINDEX_KEY, s), stop.signal)
      .catch(() => undefined)
      .finally(() => void queries.invalidateQueries({ queryKey: REINDEX_KEY }));
    return () => stop.abort();
  }, [running, flint, queries]);
  const start = useMutation({
    mutationFn: flint.startReindex,
    onSuccess: (s) => queries.setQueryData(REINDEX_KEY, s),
  });
  return (
    <section aria-labelledby="maintenance-title">
      <h2 id="maintenance-title">Maintenance</h2>
      <div className="card admin-form narrow">
        <h3>Search index</h3>
        <p>
          Rebuild the search index after adding custom search parameters, or if searches miss records that are there. It takes about a minute per 50,000
          records; searches wait until it is done, everything else goes on.
        </p>
        <ErrorNotice error={status.error ?? start.error} title="The search index" />
        {status.isPending ? <Loading /> : null}
        {status.data ? <ReindexProgress status={status.data} /> : null}
        <div className="actions">
          <button type="button" className="primary" disabled={running || start.isPending} onClick={() => start.mutate()}>
            Rebuild the search index
          </button>
        </div>
      </div>
    </section>
  );
}

export function reindexSentence(s: ReindexStatus): string {
  switch (s.state) {
    case 'running':
      return `Rebuilding: ${s.processed.toLocaleString()} of ${s.total.toLocaleString()} records.`;
    case 'done':
      return `Rebuilt ${s.processed.toLocaleString()} records${s.finishedAt ? ` on ${dateText(s.finishedAt)}` : ''}.`;
    case 'failed':
      return `The last rebuild did not finish: ${s.error ?? 'unknown reason'}. Searches use the index as it was; try again.`;
    default:
      return 'Not rebuilt since Flint started.';
  }
}

function ReindexProgress({ status }: { status: ReindexStatus }) {
  const id = useId();
  return (
    <div className="reindex-progress">
      {status.state === 'running' ? <progress id={id} max={Math.max(status.total, 1)} value={status.processed} aria-label="Rebuilding the search index" /> : null}
      <p role="status" aria-live="polite" className={status.state === 'failed' ? 'field-error' : undefined}>
        {reindexSentence(status)}
      </p>
    </div>
  );
}
