/**
 * The tray's view of sync: the core's SyncStatus (shared/api/sync.ts) reduced to one of the
 * states the tray icon can show (DesktopSyncState), with a tooltip in plain words, and the
 * stream of those states the tray follows. Plain logic: no Electron here (tray.ts is the glue).
 */
import { asyncScheduler, type Observable, of, type SchedulerLike, timer } from 'rxjs';
import { debounce, distinctUntilChanged, map } from 'rxjs/operators';
import type { SyncStatus } from '../../shared/api/sync';
import type { DesktopSyncState } from '../../shared/desktop-api';

/**
 * The one state the icon shows. Where several apply, the first of these wins:
 *
 *   not-configured > paused > error > conflicts > offline > syncing > up-to-date
 *
 * Why: without settings nothing else means anything; a pause is the user's own choice and
 * the tray menu offers "Resume sync" beside it, so the icon must say so (the sync engine
 * reports no error while paused anyway). An error needs an administrator and stops sync,
 * so it outranks everything that merely waits. Conflicts need a person to look at them and
 * stay until someone does, so they outrank offline and syncing, which pass by themselves
 * (and a conflicts icon that switched to "syncing" at every push would flicker). Offline
 * outranks syncing: pending changes or an unfinished pull do not move without a connection.
 */
export function trayStateOf(status: SyncStatus): DesktopSyncState {
  if (!status.configured) return 'not-configured';
  if (status.state === 'paused') return 'paused';
  if (status.state === 'error') return 'error';
  if (status.conflicts > 0) return 'conflicts';
  if (status.state === 'offline') return 'offline';
  if (status.state === 'active' || status.state === 'connecting') return 'syncing';
  // Idle from here on: it still counts as syncing while a catch-up pull runs or local
  // changes wait to be sent (the push is about to take them).
  if (status.pull !== undefined || status.pending > 0) return 'syncing';
  return 'up-to-date';
}

/** The tray icon's tooltip per state, for the front desk: what is going on, not how. */
export const TRAY_TOOLTIPS: Readonly<Record<DesktopSyncState, string>> = Object.freeze({
  'not-configured': 'Flint: sync is not set up. Everything is saved on this computer.',
  'up-to-date': 'Flint: up to date with the clinic server.',
  syncing: 'Flint: sending and receiving changes with the clinic server…',
  offline: 'Flint: the clinic server cannot be reached. Changes are saved here and sent later.',
  paused: 'Flint: sync is paused. Changes are saved here and sent when sync is resumed.',
  error: 'Flint: sync has a problem. Open Flint to see what to do.',
  conflicts: 'Flint: some records were changed in two places. Open Flint to look at them.',
});

/** The state line of the tray menu: short, without the "Flint:" the tooltip starts with. */
export const TRAY_STATE_LABELS: Readonly<Record<DesktopSyncState, string>> = Object.freeze({
  'not-configured': 'Sync is not set up',
  'up-to-date': 'Up to date',
  syncing: 'Syncing…',
  offline: 'Offline: changes are kept on this computer',
  paused: 'Sync is paused',
  error: 'Sync has a problem',
  conflicts: 'Records changed in two places',
});

/** How long a new state must hold before the icon shows it (a flapping state does not flicker). */
export const TRAY_SETTLE_MS = 750;

export interface TrayStatesOptions {
  /** Default TRAY_SETTLE_MS. */
  settleMs?: number;
  /** Default rxjs's asyncScheduler; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * The tray states of a sync status stream: the first at once (the icon is right from the
 * start), then each change once it has held for `settleMs`, never the same state twice in a
 * row. A state that comes and goes within `settleMs` is never shown. Completes with the source.
 */
export function trayStates(status$: Observable<SyncStatus>, options: TrayStatesOptions = {}): Observable<DesktopSyncState> {
  const settleMs = options.settleMs ?? TRAY_SETTLE_MS;
  const scheduler = options.scheduler ?? asyncScheduler;
  return status$.pipe(
    map(trayStateOf),
    distinctUntilChanged(),
    map((state, index) => ({ state, first: index === 0 })),
    debounce(({ first }) => (first ? of(0) : timer(settleMs, scheduler))),
    map(({ state }) => state),
    distinctUntilChanged(),
  );
}
