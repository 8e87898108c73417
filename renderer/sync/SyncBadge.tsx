/** Placeholder: the header's sync status, built by the sync feature's work. */
export function SyncBadge() {
  return <span className="sync-badge">Sync</span>;
}
