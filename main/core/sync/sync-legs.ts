/**
 * What the sync engine's legs (pull, push, audit push) share: their state, the backoff
 * between retries, how their states make the one status the front desk sees, and how a
 * running replication is stopped.
 */
import { MESSAGES, type SyncState, type SyncStatus } from './sync-status';

export type LegName = 'pull' | 'push' | 'audit';

export interface Leg {
  name: LegName;
  state: SyncState;
  /** Why it failed last, for the front desk (offline and error only). */
  message?: string;
  attempt: number;
  /** The retry after a failure, while the leg backs off. */
  timer?: NodeJS.Timeout;
  stop(): Promise<void>;
}

/** Full jitter: a random delay up to min(max, 1 s * 2^attempt), and at least 250 ms. */
export function backoffDelay(attempt: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, 1000 * 2 ** Math.min(attempt, 20));
  return Math.max(250, Math.floor(random() * cap));
}

/** Worst first: one leg in error makes the whole sync "error", and so on down to idle. */
const PRECEDENCE: readonly SyncState[] = ['error', 'offline', 'connecting', 'active'];

/**
 * The status the legs make together: the worst leg's state, and its words. `active` is
 * what "active" says (a catch-up reports how far it is).
 */
export function combinedStatus(legs: readonly Leg[], active: () => string, now: () => Date = () => new Date()): Partial<SyncStatus> {
  const states = legs.map((l) => l.state);
  const worst = PRECEDENCE.find((s) => states.includes(s)) ?? 'idle';
  switch (worst) {
    case 'error':
    case 'offline': {
      // The worst leg speaks: a certificate or sign-in problem outranks "cannot be reached".
      const message = legs.find((l) => l.state === worst)?.message ?? MESSAGES.offline;
      return { state: worst, message, lastError: message };
    }
    case 'idle':
      return { state: worst, message: MESSAGES.idle, lastSync: now().toISOString(), lastError: undefined };
    case 'active':
      return { state: worst, message: active() };
    default:
      return { state: worst, message: MESSAGES.connecting };
  }
}

/** Cancels a replication and waits until it ended (at most `timeoutMs`). */
export function cancelReplication(rep: PouchDB.Replication.Replication<object>, timeoutMs = 2000): Promise<void> {
  const done = new Promise<void>((resolve) => {
    rep.on('complete', () => resolve());
    rep.on('error', () => resolve());
    setTimeout(resolve, timeoutMs).unref();
  });
  rep.cancel();
  return done;
}
