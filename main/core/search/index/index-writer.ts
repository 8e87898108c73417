/**
 * Applies large indexer pages on a worker thread with its own connection to the index
 * (index-writer-worker.ts), so that a sync's bulk indexing (row inserts into covering
 * indexes, SQLCipher commits and checkpoints: over a third of the main thread during an
 * initial sync, docs/benchmarks.md section 5) runs beside the main thread's store writes.
 * Small pages (a local write) stay on the main thread: a round trip would only add latency.
 *
 * One writer at a time still holds: the indexer awaits each page before the next, and the
 * main connection forgets the params it had seen as absent after each page written here
 * (IndexDb.forgetAbsentParams). Readers on the main connection see each commit (WAL).
 * The thread starts with the first large page and stops after IDLE_MS without one. Where
 * the built worker is missing or fails, pages are applied on the main thread.
 */
import { Worker } from 'node:worker_threads';
import { builtWorkerFile } from '../../worker-file';
import type { IndexChange, Seq, TxBookkeeping } from './index-db';

const IDLE_MS = 60_000;
/** Pages with at least this many changes to index go to the thread. */
export const LARGE_PAGE = 200;

export interface IndexWriterThread {
  /** False once the thread failed to run: pages go back to the main thread. */
  usable(): boolean;
  /** Applies one page on the thread; rejects if it could not (nothing of it is written then). */
  apply(changes: readonly IndexChange[], checkpoint: Seq, tx?: TxBookkeeping): Promise<void>;
  /** Creates the search indexes at the end of a rebuild (IndexDb.buildSearchIndexes), off the event loop. */
  buildSearchIndexes(): Promise<void>;
  close(): Promise<void>;
}

export interface IndexWriterOptions {
  file: string;
  key: Buffer;
  definitionsHash: string;
  /** The worker script; default: dist/index-writer-worker.js beside the bundle. */
  workerFile?: string;
}


/** Undefined where there is no built worker (the core run from sources). */
export function indexWriterThread(opts: IndexWriterOptions): IndexWriterThread | undefined {
  const file = opts.workerFile ?? builtWorkerFile('index-writer-worker');
  if (!file) return undefined;
  let worker: Worker | undefined;
  let idle: NodeJS.Timeout | undefined;
  let nextId = 0;
  let broken = false;
  const waiting = new Map<number, { what: string; resolve: () => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };

  function start(): Worker {
    const w = new Worker(file!, { workerData: { file: opts.file, key: new Uint8Array(opts.key), definitionsHash: opts.definitionsHash } });
    w.unref();
    w.on('message', (msg: { id?: number; error?: string }) => {
      if (msg.id === undefined) return;
      const entry = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) entry?.reject(new Error(`the index writer thread could not ${entry?.what ?? 'apply a page'}: ${msg.error}`));
      else entry?.resolve();
    });
    w.on('error', (err) => {
      broken = true;
      if (worker === w) worker = undefined;
      failAll(new Error(`the index writer thread failed (${err.name})`));
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll(new Error('the index writer thread stopped'));
    });
    return w;
  }

  /** Stops the thread through its own close (it closes its connection, checkpointing the WAL). */
  async function stop(w: Worker): Promise<void> {
    if (worker === w) worker = undefined;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => void w.terminate().then(() => done()), 5000);
      w.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      w.postMessage({ close: true });
    });
  }

  const send = (what: string, msg: object): Promise<void> => {
    worker ??= start();
    const w = worker;
    clearTimeout(idle);
    idle = setTimeout(() => void stop(w), IDLE_MS);
    idle.unref();
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      waiting.set(id, { what, resolve, reject });
      w.postMessage({ id, ...msg });
    });
  };

  return {
    usable: () => !broken,
    apply: (changes, checkpoint, tx) => send('apply a page', { changes, checkpoint, tx }),
    buildSearchIndexes: () => send('create the search indexes', { build: true }),
    async close() {
      clearTimeout(idle);
      const w = worker;
      if (w) await stop(w);
    },
  };
}
