/**
 * The sync status in the header, on every signed-in screen: the state in a word, changes
 * waiting to be sent, when sync last completed, and conflicts to review; a link to the
 * sync panel. Screen readers hear state and conflict changes (a polite live region), not
 * every count.
 */
import { Link } from 'react-router';
import { announcement, badgeOf, plural, pullProgress, timeAgo } from './sync-text';
import { useNow, useSyncStatusFeed } from './use-sync-status';

export function SyncBadge() {
  const status = useSyncStatusFeed();
  const now = useNow();
  const s = status.data;
  const badge = badgeOf(s);
  const label = badge?.label ?? (status.isError ? 'Sync status unknown' : 'Sync…');
  const tone = badge?.tone ?? 'neutral';
  const pull = pullProgress(s);
  return (
    <div className="sync-badge">
      <Link to="/sync" className="sync-badge-link" title={s?.lastError ?? s?.message ?? 'Sync status'}>
        <span className={`sync-dot sync-dot-${tone}`} aria-hidden="true" />
        <span className="sync-badge-state">{label}</span>
        {pull ? <span className="sync-badge-detail">{pull.percent !== undefined ? `${pull.percent}% received` : `${plural(pull.received, 'record')} received`}</span> : null}
        {s && s.configured && s.pending > 0 ? <span className="sync-badge-detail">{plural(s.pending, 'change')} to send</span> : null}
        {s && s.configured ? <span className="sync-badge-detail">{s.lastSync ? `synced ${timeAgo(s.lastSync, now)}` : 'never synced'}</span> : null}
        {s && s.conflicts > 0 ? <span className="badge error sync-badge-conflicts">{plural(s.conflicts, 'conflict')}</span> : null}
      </Link>
      <span className="visually-hidden" role="status" aria-live="polite">
        {announcement(s)}
      </span>
    </div>
  );
}
