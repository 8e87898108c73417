/** The sync status in words and figures: for the sync panel and the central-server settings. */
import { useId } from 'react';
import type { SyncStatus } from '../../shared/api/sync';
import { dateText } from '../fhir/format';
import { badgeOf, plural, pullProgress, timeAgo } from './sync-text';
import { useNow } from './use-sync-status';

export function SyncStatusMessage({ status }: { status: SyncStatus }) {
  const badge = badgeOf(status)!;
  const tone = badge.tone === 'neutral' ? 'info' : badge.tone === 'error' ? 'error' : badge.tone === 'warn' ? 'warn' : badge.tone === 'ok' ? 'ok' : 'info';
  return (
    <div className={`notice notice-${tone} sync-message`}>
      <p>
        <span className={`badge ${badge.tone === 'neutral' ? '' : badge.tone}`}>{badge.label}</span> {status.message}
      </p>
      {status.lastError && status.lastError !== status.message ? (
        <p className="sync-last-error">
          <strong>Last problem:</strong> {status.lastError}
        </p>
      ) : null}
    </div>
  );
}

export function SyncStatusDetails({ status }: { status: SyncStatus }) {
  const now = useNow();
  const pull = pullProgress(status);
  const progressId = useId();
  return (
    <>
      {pull ? (
        <div className="sync-progress">
          <label htmlFor={progressId}>Receiving the clinic’s records</label>
          <progress id={progressId} max={pull.total ?? undefined} value={pull.total !== undefined ? pull.received : undefined} />
          <span className="hint">
            {pull.received.toLocaleString()} received{pull.total !== undefined ? ` of about ${pull.total.toLocaleString()} (${pull.percent}%)` : ' so far'}. Work on this computer goes on meanwhile.
          </span>
        </div>
      ) : null}
      <dl className="facts sync-facts">
        <dt>Central server</dt>
        <dd>{status.remote ? <code>{status.remote}</code> : 'Not set up'}</dd>
        <dt>Last sync</dt>
        <dd>{status.lastSync ? `${timeAgo(status.lastSync, now)} (${dateText(status.lastSync)})` : 'Never'}</dd>
        <dt>Changes waiting to be sent</dt>
        <dd>{status.pending.toLocaleString()}</dd>
        <dt>Audit events not yet on the server</dt>
        <dd>{status.auditPending.toLocaleString()}</dd>
        <dt>Sent / received since Flint started</dt>
        <dd>
          {plural(status.sent, 'record')} sent, {plural(status.received, 'record')} received
        </dd>
        <dt>Conflicts</dt>
        <dd>{status.conflicts.toLocaleString()}</dd>
        <dt>Quarantined arrivals</dt>
        <dd>{status.quarantined.toLocaleString()}</dd>
      </dl>
    </>
  );
}
