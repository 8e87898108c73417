/**
 * `/r/:type/:id/history`: a resource's versions (newest first: version, when, what
 * happened, who when the version says) and a readable difference between any two of
 * them, by default the last two: per element path, what was added, removed or changed.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useFlint } from '../app/flint-context';
import { dateText, resourceSummary } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { DiffTable } from './DiffTable';
import { diffJson } from '../fhir/json-diff';
import { whoOf } from './who';

export interface Version {
  versionId: string;
  lastUpdated: string | undefined;
  action: 'created' | 'updated' | 'deleted';
  resource: Resource | undefined;
  who: string | undefined;
}

const vidOfEtag = (etag: string | undefined) => /^(?:W\/)?"?([^"]*)"?$/.exec(etag ?? '')?.[1];

/** The versions of a history bundle, newest first as the server sends them. */
export function versionsOf(bundle: Bundle | undefined): Version[] {
  return (bundle?.entry ?? []).map((e: BundleEntry) => {
    const r = e.resource;
    const deleted = e.request?.method === 'DELETE' || (!r && e.response?.status?.startsWith('204') === true);
    return {
      versionId: r?.meta?.versionId ?? vidOfEtag(e.response?.etag) ?? '?',
      lastUpdated: r?.meta?.lastUpdated ?? e.response?.lastModified,
      action: deleted ? 'deleted' : e.request?.method === 'POST' || e.response?.status?.startsWith('201') ? 'created' : 'updated',
      resource: r,
      who: whoOf(r),
    };
  });
}

export function HistoryPage() {
  const { type = '', id = '' } = useParams();
  const { fhir } = useFlint();
  const history = useQuery({
    queryKey: ['editing', 'history', type, id],
    queryFn: () => fhir.history(type, id, { _count: '100' }),
    staleTime: 0,
  });
  const [older, setOlder] = useState<string>();
  const [newer, setNewer] = useState<string>();

  if (history.isPending) return <Loading label="Reading the versions…" />;
  if (history.isError) {
    return (
      <section>
        <h1>History</h1>
        <ErrorNotice error={history.error} />
      </section>
    );
  }
  const versions = versionsOf(history.data);
  const current = versions.find((v) => v.resource)?.resource;
  const from = older ?? versions[1]?.versionId;
  const to = newer ?? versions[0]?.versionId;
  const a = versions.find((v) => v.versionId === from);
  const b = versions.find((v) => v.versionId === to);
  const changes = a && b ? diffJson(a.resource, b.resource) : [];
  const label = (v: Version) => `Version ${v.versionId} · ${v.action}${v.lastUpdated ? ` · ${dateText(v.lastUpdated)}` : ''}`;
  const more = (history.data.total ?? versions.length) > versions.length;

  return (
    <section aria-labelledby="history-title">
      <div className="page-header">
        <div>
          <h1 id="history-title">
            History of {type}
            {current ? `: ${resourceSummary(current)}` : ''}
          </h1>
          <p className="hint">
            {type}/{id} · {versions.length === 1 ? 'one version' : `${versions.length} versions`}
            {more ? ` (the latest ${versions.length} of ${history.data.total})` : ''}
          </p>
        </div>
        <nav aria-label="This record" className="actions">
          <Link to={`/r/${type}/${encodeURIComponent(id)}`}>Back to the {type}</Link>
        </nav>
      </div>

      <h2 id="versions-heading">Versions</h2>
      <table className="data" aria-labelledby="versions-heading">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col">What happened</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.versionId}>
              <th scope="row">{v.versionId}</th>
              <td>{v.lastUpdated ? <time dateTime={v.lastUpdated}>{dateText(v.lastUpdated)}</time> : ''}</td>
              <td>{v.action === 'created' ? 'Created' : v.action === 'deleted' ? 'Deleted' : 'Changed'}</td>
              <td>{v.who ?? <span className="hint">not recorded</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 id="compare-heading">Compare two versions</h2>
      {versions.length < 2 ? (
        <p>There is only one version, so there is nothing to compare yet.</p>
      ) : (
        <>
          <div className="form-grid compare-pickers" role="group" aria-labelledby="compare-heading">
            <div className="field">
              <label htmlFor="compare-from">From (older)</label>
              <select id="compare-from" value={from} onChange={(e) => setOlder(e.target.value)}>
                {versions.map((v) => (
                  <option key={v.versionId} value={v.versionId}>
                    {label(v)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="compare-to">To (newer)</label>
              <select id="compare-to" value={to} onChange={(e) => setNewer(e.target.value)}>
                {versions.map((v) => (
                  <option key={v.versionId} value={v.versionId}>
                    {label(v)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div aria-live="polite">
            {from === to ? (
              <p>Choose two different versions.</p>
            ) : changes.length === 0 ? (
              <p>These two versions hold the same information.</p>
            ) : (
              <>
                <p className="hint">
                  {changes.length === 1 ? 'One difference' : `${changes.length} differences`} from version {from} to version {to}.
                </p>
                <DiffTable changes={changes} label={`Differences from version ${from} to version ${to}`} beforeLabel={`Version ${from}`} afterLabel={`Version ${to}`} />
              </>
            )}
          </div>
        </>
      )}
    </section>
  );
}
