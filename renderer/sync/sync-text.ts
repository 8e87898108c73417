/**
 * How the sync status reads on screen: the header badge's state in a word or two, times
 * as "2 min ago", conflicts in a sentence. Pure functions, tested in sync-text.test.ts.
 */
import type { ConflictEntry, SyncStatus } from '../../shared/api/sync';

export type BadgeState = 'not-set-up' | 'offline' | 'syncing' | 'up-to-date' | 'paused' | 'error';

export interface BadgeView {
  state: BadgeState;
  /** A word or two: "Up to date", "Offline"... */
  label: string;
  /** The badge colour class in styles.css (`.badge.ok` ...). */
  tone: 'ok' | 'info' | 'warn' | 'error' | 'neutral';
}

const VIEWS: Record<BadgeState, BadgeView> = {
  'not-set-up': { state: 'not-set-up', label: 'Sync not set up', tone: 'neutral' },
  offline: { state: 'offline', label: 'Offline', tone: 'warn' },
  syncing: { state: 'syncing', label: 'Syncing', tone: 'info' },
  'up-to-date': { state: 'up-to-date', label: 'Up to date', tone: 'ok' },
  paused: { state: 'paused', label: 'Sync paused', tone: 'warn' },
  error: { state: 'error', label: 'Sync problem', tone: 'error' },
};

/** The badge's state: idle with changes still to send counts as syncing. */
export function badgeOf(s: SyncStatus | undefined): BadgeView | undefined {
  if (!s) return undefined;
  if (!s.configured) return VIEWS['not-set-up'];
  switch (s.state) {
    case 'paused':
      return VIEWS.paused;
    case 'error':
      return VIEWS.error;
    case 'offline':
      return VIEWS.offline;
    case 'connecting':
    case 'active':
      return VIEWS.syncing;
    case 'idle':
      return s.pending > 0 ? VIEWS.syncing : VIEWS['up-to-date'];
    default:
      return VIEWS.error;
  }
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date. */
export function timeAgo(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const seconds = Math.max(0, Math.round((now - t) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString()} ${n === 1 ? one : many}`;

/** What the screen reader hears when the badge changes: only state and conflict changes, not every count. */
export function announcement(s: SyncStatus | undefined): string {
  const b = badgeOf(s);
  if (!s || !b) return '';
  const parts = [`Sync: ${b.label.replace(/^Sync /, '').toLowerCase()}`];
  if (s.conflicts > 0) parts.push(`${plural(s.conflicts, 'conflict')} to review`);
  return `${parts.join('. ')}.`;
}

export const KIND_LABEL: Record<ConflictEntry['kind'], string> = {
  edit: 'Edited on two workstations',
  delete: 'Deleted on one workstation, edited on another',
  duplicate: 'Possible duplicate',
};

export const ref = (type: string, id: string) => `${type}/${id}`;

/** "Possible duplicate patient: same identifier 123 (urn:oid:…) as Patient/a, Patient/b". */
export function duplicateSentence(c: ConflictEntry): string {
  const id = c.identifier ? `same identifier ${c.identifier.value}${c.identifier.system ? ` (${c.identifier.system})` : ''}` : 'same identifier';
  return `Possible duplicate patient: ${id} as ${(c.duplicates ?? []).join(', ') || 'another patient'}`;
}

/** Where a record opens: patients in their record, everything else in the generic view. */
export function recordPath(reference: string): string {
  const [type = '', id = ''] = reference.split('/');
  if (type === 'Patient') return `/patients/${encodeURIComponent(id)}`;
  return `/r/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

export const conflictPath = (type: string, id: string) => `/sync/conflicts/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;

/** The workstation a version was written on: versionIds are `<n>.<workstationId>`. */
export function versionParts(vid: string): { n: string; workstation?: string } {
  const dot = vid.indexOf('.');
  return dot < 0 ? { n: vid } : { n: vid.slice(0, dot), workstation: vid.slice(dot + 1) };
}

/** A catch-up pull's progress (SyncStatus.pull, present while a large pull runs); read defensively. */
export function pullProgress(s: SyncStatus | undefined): { received: number; total?: number; percent?: number } | undefined {
  const pull = (s as (SyncStatus & { pull?: { received?: unknown; total?: unknown } }) | undefined)?.pull;
  if (!pull || typeof pull.received !== 'number') return undefined;
  const total = typeof pull.total === 'number' && pull.total > 0 ? Math.max(pull.total, pull.received) : undefined;
  return total === undefined ? { received: pull.received } : { received: pull.received, total, percent: Math.floor((pull.received / total) * 100) };
}
