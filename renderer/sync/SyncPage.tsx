/**
 * The sync panel: what sync is doing in words, its figures, pause and resume (admins),
 * the conflicts to review (each opens its conflict page; possible duplicate patients are
 * named as such, with links to both records) and, for admins, what arrived invalid and
 * was quarantined.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'react-router';
import type { ConflictEntry } from '../../shared/api/sync';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { SyncStatusDetails, SyncStatusMessage } from './SyncStatusDetails';
import { useSummaries, type Summary } from './summaries';
import { KIND_LABEL, conflictPath, plural, recordPath, ref } from './sync-text';
import { CONFLICTS_KEY, QUARANTINE_KEY, SYNC_STATUS_KEY, useSyncStatus } from './use-sync-status';

export interface SyncPageState {
  /** Shown once on arrival: what the conflict page just did. */
  notice?: string;
}

export function SyncPage() {
  const { session } = useFlint();
  const location = useLocation();
  const notice = (location.state as SyncPageState | null)?.notice;
  const status = useSyncStatus();
  return (
    <section className="sync-page" aria-labelledby="sync-title">
      <div className="page-header">
        <h1 id="sync-title">Sync</h1>
        {session.admin ? (
          <Link to="/admin/server" className="button">
            Central server settings
          </Link>
        ) : null}
      </div>
      {notice ? (
        <p className="notice notice-ok" role="status">
          {notice}
        </p>
      ) : null}
      {status.data ? (
        <div className="card">
          <h2 className="card-title">Status</h2>
          <SyncStatusMessage status={status.data} />
          <SyncStatusDetails status={status.data} />
          {session.admin && status.data.configured ? <PauseResume paused={status.data.state === 'paused'} /> : null}
        </div>
      ) : status.error ? (
        <ErrorNotice error={status.error} title="The sync status could not be read" />
      ) : (
        <Loading label="Reading the sync status…" />
      )}
      <Conflicts />
      {session.admin ? <Quarantine /> : null}
    </section>
  );
}

function PauseResume({ paused }: { paused: boolean }) {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const change = useMutation({
    mutationFn: (pause: boolean) => flint.setSyncPaused(pause),
    onSuccess: (s) => queries.setQueryData(SYNC_STATUS_KEY, s),
  });
  return (
    <div className="actions">
      <button type="button" onClick={() => change.mutate(!paused)} disabled={change.isPending}>
        {paused ? 'Resume sync' : 'Pause sync'}
      </button>
      <span className="hint">{paused ? 'Nothing is sent or received until you resume.' : 'Pausing stops sending and receiving; work on this computer goes on.'}</span>
      <ErrorNotice error={change.error} title={paused ? 'Sync could not be resumed' : 'Sync could not be paused'} />
    </div>
  );
}

function Conflicts() {
  const { flint } = useFlint();
  const list = useQuery({ queryKey: CONFLICTS_KEY, queryFn: flint.conflicts, refetchInterval: 30_000 });
  const conflicts = list.data ?? [];
  const summaries = useSummaries(conflicts.flatMap((c) => [ref(c.type, c.id), ...(c.duplicates ?? [])]));
  return (
    <section aria-labelledby="conflicts-title">
      <h2 id="conflicts-title">Conflicts and possible duplicates {list.data ? <span className="badge">{conflicts.length}</span> : null}</h2>
      {list.error ? <ErrorNotice error={list.error} title="The conflicts could not be listed" /> : null}
      {list.isPending ? <Loading label="Listing conflicts…" /> : null}
      {list.data && conflicts.length === 0 ? <p>No conflicts and no possible duplicates: every record reads the same on every workstation.</p> : null}
      {conflicts.length > 0 ? (
        <>
          <p className="hint">
            A conflict is a record changed on two workstations while they could not reach each other: every version is kept and, until someone chooses, everyone sees
            the same one of them. A possible duplicate is a patient created on two workstations with the same identifier.
          </p>
          <table className="data conflicts-table">
            <thead>
              <tr>
                <th scope="col">Record</th>
                <th scope="col">What happened</th>
                <th scope="col">Versions</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {conflicts.map((c) => (
                <ConflictRow key={`${c.type}/${c.id}`} c={c} summaries={summaries} />
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

function ConflictRow({ c, summaries }: { c: ConflictEntry; summaries: Map<string, Summary> }) {
  const self = ref(c.type, c.id);
  const summary = summaries.get(self);
  const name = summary && !summary.deleted ? summary.text : undefined;
  return (
    <tr>
      <td>
        <Link to={conflictPath(c.type, c.id)}>{name ?? self}</Link>
        <br />
        <small>
          {c.type}/{c.id}
          {summary?.deleted ? ` (${summary.text} now)` : ''}
        </small>
      </td>
      <td>
        {c.kind === 'duplicate' ? (
          <>
            <span className="badge warn">{KIND_LABEL.duplicate}</span> patient: same identifier <strong>{c.identifier?.value ?? ''}</strong>
            {c.identifier?.system ? <small> ({c.identifier.system})</small> : null} as{' '}
            {(c.duplicates ?? []).map((d, i) => (
              <span key={d}>
                {i > 0 ? ', ' : ''}
                <Link to={recordPath(d)}>{summaries.get(d)?.text ?? d}</Link> <small>({d})</small>
              </span>
            ))}
            . <Link to={recordPath(self)}>Open this record</Link>
          </>
        ) : (
          <>
            <span className={`badge ${c.kind === 'delete' ? 'error' : 'warn'}`}>{c.kind === 'delete' ? 'Delete' : 'Edit'}</span> {KIND_LABEL[c.kind]}
          </>
        )}
      </td>
      <td>{c.kind === 'duplicate' ? plural((c.duplicates?.length ?? 0) + 1, 'record') : plural(c.versions.length, 'version')}</td>
      <td>
        <Link to={conflictPath(c.type, c.id)} className="button">
          Review<span className="visually-hidden"> {name ? `${name} (${self})` : self}</span>
        </Link>
      </td>
    </tr>
  );
}

interface QuarantineEntry {
  doc?: string;
  type?: string;
  id?: string;
  vid?: string;
  reason?: string;
  at?: string;
}

function Quarantine() {
  const { flint } = useFlint();
  const list = useQuery({ queryKey: QUARANTINE_KEY, queryFn: flint.quarantine, refetchInterval: 60_000 });
  const entries = (list.data ?? []) as QuarantineEntry[];
  return (
    <section aria-labelledby="quarantine-title">
      <h2 id="quarantine-title">Quarantine {list.data ? <span className="badge">{entries.length}</span> : null}</h2>
      <p className="hint">Records that arrived from the central server but were not valid. They are kept aside, never shown or searched, until a valid version arrives.</p>
      {list.error ? <ErrorNotice error={list.error} title="The quarantine could not be listed" /> : null}
      {list.isPending ? <Loading label="Listing quarantined records…" /> : null}
      {list.data && entries.length === 0 ? <p>Nothing is quarantined.</p> : null}
      {entries.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Record</th>
              <th scope="col">Why it was refused</th>
              <th scope="col">Arrived</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.doc ?? ''}-${i}`}>
                <td>
                  <code>{e.type && e.id ? `${e.type}/${e.id}` : (e.doc ?? '?')}</code>
                  {e.vid ? <small> version {e.vid}</small> : null}
                </td>
                <td>{e.reason ?? ''}</td>
                <td>{e.at ? dateText(e.at) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
