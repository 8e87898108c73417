/**
 * The search index rebuild as one background job per server (docs/flint-api.md,
 * "Rebuilding the search index"): `POST /flint/reindex` starts it and answers at once,
 * `POST /fhir/$reindex` starts it and waits for it. Both go through here, so there is one
 * rebuild at a time: starting a second one while one runs is 409.
 *
 * The job keeps its status (state, resources processed of the total expected, times, why
 * it failed) for GET /flint/reindex and emits it as it changes, at most every
 * `intervalMs` for progress (state changes at once), for GET /flint/reindex/events.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { takeWhile } from 'rxjs/operators';
import { conflict, FhirError } from '../../../shared/fhir/outcome';
import type { ReindexStatus } from '../../../shared/api/reindex';
import type { Definitions } from '../fhir/definitions';
import { indexedResources, reindex, type ReindexResult } from './custom-params';
import type { IndexSearch } from './index-search';
import type { SearchIndex } from './open-search-index';

export type { ReindexStatus } from '../../../shared/api/reindex';

/** What a rebuild reports: resources processed so far and the total expected. */
export type ReindexProgressFn = (processed: number, total: number) => void;

export interface ReindexJobOptions<R> {
  /** The total expected, known before the work starts (for the 202 answer). */
  estimate: () => number;
  /** The work: reports progress, resolves with its result and the resources it ended with. */
  run: (onProgress: ReindexProgressFn) => Promise<R & { resources: number }>;
  /** Told of every successful rebuild (e.g. to serve its definitions from then on). */
  onDone?: (result: R) => void;
  /** Where an unexpected failure is reported: stack locations only, never a message. */
  logFault?: (message: string) => void;
  /** Least time between two progress emissions (ms; default 250). */
  intervalMs?: number;
  now?: () => number;
}

export interface ReindexJob<R> {
  status(): ReindexStatus;
  /** The status now and every change; completes after a running job ends (at once when none runs). */
  events(): Observable<ReindexStatus>;
  /**
   * Starts the job: the status it starts with, and its end (rejects when it fails; nobody
   * needs to wait for it). Throws 409 while one runs.
   */
  start(): { status: ReindexStatus; done: Promise<R> };
}

const FAILED = 'The search index could not be rebuilt because of an unexpected fault (details are in the server log). Searches may miss resources until it is rebuilt: start it again.';

export function createReindexJob<R>(o: ReindexJobOptions<R>): ReindexJob<R> {
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 250;
  const subject = new BehaviorSubject<ReindexStatus>({ state: 'idle', processed: 0, total: 0 });
  let current: ReindexStatus = subject.value;
  let lastEmit = 0;
  let trailing: NodeJS.Timeout | undefined;

  const emit = () => {
    if (trailing) clearTimeout(trailing);
    trailing = undefined;
    lastEmit = now();
    subject.next(current);
  };
  const set = (next: ReindexStatus, urgent: boolean) => {
    current = next;
    if (urgent || now() - lastEmit >= interval) return emit();
    trailing ??= setTimeout(emit, Math.max(0, lastEmit + interval - now())).unref();
  };

  return {
    status: () => current,
    events() {
      return subject.pipe(takeWhile((s) => s.state === 'running', true));
    },
    start() {
      if (current.state === 'running') throw conflict('The search index is already being rebuilt: wait for it to finish');
      const iso = () => new Date(now()).toISOString();
      const startedAt = iso();
      const total = o.estimate();
      set({ state: 'running', processed: 0, total, startedAt }, true);
      const started = current;
      const progress: ReindexProgressFn = (processed, expected) => {
        if (current.state !== 'running') return;
        set({ ...current, processed, total: Math.max(expected, processed) }, false);
      };
      const done = (async () => {
        try {
          const result = await o.run(progress);
          set({ state: 'done', processed: result.resources, total: result.resources, startedAt, finishedAt: iso() }, true);
          o.onDone?.(result);
          return result;
        } catch (e) {
          set({ state: 'failed', processed: current.processed, total: current.total, startedAt, finishedAt: iso(), error: failureWords(e) }, true);
          if (!(e instanceof FhirError)) {
            const where = ((e as Error | undefined)?.stack ?? '').split('\n').slice(1, 6).join(' | ');
            o.logFault?.(`search index rebuild failed: ${(e as Error | undefined)?.name ?? 'error'}: ${where}`);
          }
          throw e;
        }
      })();
      done.catch(() => undefined); // whoever waits sees the failure; nobody has to wait
      return { status: started, done };
    },
  };
}

/** Our own refusals say what is wrong in words; anything else might quote data: say nothing of it. */
function failureWords(e: unknown): string {
  if (e instanceof FhirError) {
    const text = e.outcome.issue?.[0]?.diagnostics;
    if (text) return `The search index could not be rebuilt: ${text}`;
  }
  return FAILED;
}

/** What $reindex answers with: the definitions to serve, the changes read, the custom parameters. */
export type SearchReindexResult = ReindexResult;

export interface SearchReindexOptions {
  searchIndex: SearchIndex;
  db: PouchDB.Database;
  /** The official definitions (custom parameters are read from the store). */
  base: Definitions;
  /** The FHIR API's search: it answers 503 while the index is rebuilt. */
  search: Pick<IndexSearch, 'whileRebuilding'>;
  onDone?: (result: ReindexResult) => void;
  logFault?: (message: string) => void;
}

/** The server's rebuild job: custom-params.ts `reindex`, with searches refused meanwhile. */
export function createSearchReindexJob(o: SearchReindexOptions): ReindexJob<ReindexResult> {
  return createReindexJob<ReindexResult>({
    estimate: () => indexedResources(o.searchIndex.index, o.base),
    run: (onProgress) => o.search.whileRebuilding(() => reindex(o.searchIndex, o.db, o.base, undefined, onProgress)),
    ...(o.onDone ? { onDone: o.onDone } : {}),
    ...(o.logFault ? { logFault: o.logFault } : {}),
  });
}
