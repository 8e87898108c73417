/**
 * Work on pulled resources that is a pure function of the resource, done on a worker thread
 * (receive-worker.ts) so that it overlaps the main thread's store and index writes during a
 * sync (docs/sync.md, "Keeping the server and both cores busy"):
 * - validation: `check()` answers for a batch the applier is about to write; `precheck()`
 *   starts on a batch that was just prefetched, and check() later finds those results
 *   (held by the resource objects themselves, in a WeakMap);
 * - search rows: precheck() also extracts the index rows of valid resources, with the
 *   official search parameters; the indexer takes them (`takeRows`) instead of extracting
 *   again, unless custom search parameters are in force (open-search-index.ts).
 * - local commits: extractAhead() extracts the rows of a large transaction's versions
 *   (already valid) while the store commits them on the main thread; the composition root
 *   waits for settled() before the index catch-up, which then takes them (app.ts).
 *
 * The worker starts with the first batch of WORKER_MIN resources or more, answers once it
 * has loaded the definitions (until then the calling thread validates), and stops after
 * IDLE_MS without work. Where the built worker is absent (the core run from TypeScript sources) or fails,
 * everything is done on the calling thread, with the same results.
 */
import { Worker } from 'node:worker_threads';
import { builtWorkerFile } from '../worker-file';
import type { Resource } from '@medplum/fhirtypes';
import type { IndexRows } from '../search/extract/rows';
import { decimalTextsOf } from '../../../shared/fhir/exact-json';

const IDLE_MS = 60_000;
/**
 * Smaller batches are done here unless the worker is already up: a live pull brings a few
 * documents at a time, and starting a worker costs CPU and memory (its own definitions and
 * validator tables: about 0.35 s to ready and ~125 MB of RSS with the build's trimmed
 * definitions, measured by hand on 2026-12-07; ~1 s and ~290 MB with the full files).
 */
export const WORKER_MIN = 100;
/** Extracted rows kept for the indexer (oldest dropped first): a few pull batches. */
const MAX_ROWS = 10_000;

export interface ReceivePool {
  /** The reasons each resource is invalid (empty: valid), in order. */
  check(resources: readonly Resource[]): Promise<string[][]>;
  /** Starts on resources check() is about to be asked for (the same objects), and their index rows. */
  precheck(resources: readonly Resource[]): void;
  /**
   * Starts extracting the index rows of versions about to be committed, already validated
   * (a large transaction: its rows are extracted while the store commits it). Only on the
   * worker, started for WORKER_MIN resources or more; otherwise nothing is done and the
   * indexer extracts them itself.
   */
  extractAhead(resources: readonly Resource[]): void;
  /** Resolves once every extractAhead() so far has answered (or failed): its rows are then takeable. */
  settled(): Promise<void>;
  /** The rows precheck() or extractAhead() extracted for this version, once. */
  takeRows(type: string, id: string, vid: string): IndexRows | undefined;
  close(): Promise<void>;
}

export interface ReceivePoolOptions {
  log?: (line: string) => void;
  /** The worker script; default: dist/receive-worker.js beside the bundle; null: none. */
  workerFile?: string | null;
}


interface Answer {
  reasons: string[][];
  rows?: Array<IndexRows | null>;
}

/** A validator that throws on a resource has found it unusable: quarantined, as on the worker. */
export const VALIDATOR_FAILED = 'exception at the resource: the validator failed on it';

const versionKey = (r: Resource) => `${r.resourceType}/${r.id ?? ''}/${r.meta?.versionId ?? ''}`;

export function createReceivePool(validateHere: (resource: Resource) => string[], options: ReceivePoolOptions = {}): ReceivePool {
  const log = options.log ?? (() => undefined);
  const validateOne = (r: Resource): string[] => {
    try {
      return validateHere(r);
    } catch {
      return [VALIDATOR_FAILED];
    }
  };
  const file = options.workerFile === undefined ? builtWorkerFile('receive-worker') : (options.workerFile ?? undefined);
  let worker: Worker | undefined;
  let ready = false;
  let broken = !file;
  let idle: NodeJS.Timeout | undefined;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  const early = new WeakMap<object, Promise<string[]>>();
  const rows = new Map<string, IndexRows>();
  const extracting = new Set<Promise<unknown>>();

  function failAll(err: Error): void {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  }

  function start(): Worker {
    const w = new Worker(file!);
    w.unref();
    ready = false;
    w.on('message', (msg: ({ id: number } & Answer) | { ready: true }) => {
      if ('ready' in msg) {
        ready = true;
        return;
      }
      const entry = waiting.get(msg.id);
      waiting.delete(msg.id);
      entry?.resolve(msg);
    });
    w.on('error', (err) => {
      log(`[fault] the receive worker failed (${err.name}); validating on the main thread`);
      broken = true;
      worker = undefined;
      failAll(err);
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll(new Error('the receive worker stopped'));
    });
    return w;
  }

  function armIdle(w: Worker): void {
    clearTimeout(idle);
    idle = setTimeout(() => void w.terminate(), IDLE_MS);
    idle.unref();
  }

  const here = (resources: readonly Resource[]): Answer => ({ reasons: resources.map(validateOne) });

  /**
   * On the worker if it is up (started if need be), else here. `rows`: also extract index
   * rows; 'only': that alone (no validation), and nothing at all unless on the worker.
   */
  async function run(resources: readonly Resource[], withRows: boolean | 'only', decimals = resources.map(decimalTextsOf)): Promise<Answer> {
    const fallback = (): Answer => (withRows === 'only' ? { reasons: [] } : here(resources));
    if (resources.length === 0) return { reasons: [] };
    if (!broken && (worker || resources.length >= WORKER_MIN)) {
      worker ??= start();
      armIdle(worker);
    }
    if (broken || !ready || !worker) return fallback();
    const w = worker;
    const id = nextId++;
    try {
      return await new Promise<Answer>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, resources, decimals, rows: withRows !== false, validate: withRows !== 'only' });
      });
    } catch {
      return fallback(); // the worker died under this batch: same answer, here
    }
  }

  /** Keeps the rows of an answer for takeRows, the oldest dropped beyond MAX_ROWS. */
  function keepRows(todo: readonly Resource[], a: Answer): void {
    a.rows?.forEach((r, i) => {
      if (r) rows.set(versionKey(todo[i]!), r);
    });
    for (const k of rows.keys()) {
      if (rows.size <= MAX_ROWS) break;
      rows.delete(k);
    }
  }

  return {
    async check(resources) {
      const known = resources.map((r) => early.get(r));
      const rest = resources.filter((_r, i) => !known[i]);
      const fresh = rest.length > 0 ? (await run(rest, false)).reasons : [];
      let j = 0;
      return Promise.all(
        resources.map((r, i) => {
          early.delete(r);
          return known[i] ?? Promise.resolve(fresh[j++] ?? []);
        }),
      );
    },
    precheck(resources) {
      const todo = resources.filter((r) => r && typeof r === 'object' && !early.has(r));
      if (todo.length === 0) return;
      const answer = run(todo, true);
      answer.then(
        (a) => keepRows(todo, a),
        () => undefined,
      );
      todo.forEach((r, i) => {
        const p = answer.then((a) => a.reasons[i] ?? []);
        p.catch(() => undefined);
        early.set(r, p);
      });
    },
    extractAhead(resources) {
      if (broken || (!worker && resources.length < WORKER_MIN)) return;
      const p = run(resources, 'only').then(
        (a) => keepRows(resources, a),
        () => undefined,
      );
      extracting.add(p);
      void p.finally(() => extracting.delete(p));
    },
    async settled() {
      while (extracting.size > 0) await Promise.all([...extracting]);
    },
    takeRows(type, id, vid) {
      const k = `${type}/${id}/${vid}`;
      const r = rows.get(k);
      if (r) rows.delete(k);
      return r;
    },
    async close() {
      clearTimeout(idle);
      const w = worker;
      worker = undefined;
      broken = true;
      rows.clear();
      if (w) await w.terminate();
    },
  };
}
