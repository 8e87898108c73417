/**
 * Validates batches of resources on a worker thread (validation-worker.ts), for the sync
 * applier: validation is a pure function of the resource, about a fifth of the main
 * thread's work during an initial sync (docs/benchmarks.md, section 5), and on a worker it
 * overlaps the store and index writes. The worker starts on the first batch and stops after
 * IDLE_MS without one, so a workstation that is not receiving keeps no second copy of the
 * definitions in memory.
 *
 * Where the built worker is absent (the core run from TypeScript sources, as in unit
 * tests) or cannot start, batches are validated on the calling thread: same results.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';

const IDLE_MS = 60_000;

export interface ValidationPool {
  /** The reasons each resource is invalid (empty: valid), in order. */
  validateMany(resources: readonly Resource[]): Promise<string[][]>;
  /**
   * Starts validating resources that validateMany() is about to be asked for (the same
   * objects): the sync pull's prefetched batch, validated while the batch before it is
   * written. Their results wait, held by the objects themselves (a WeakMap).
   */
  prevalidate(resources: readonly Resource[]): void;
  /** Starts the worker ahead of the first batch (it loads the definitions: about 2 s). */
  warm(): void;
  close(): Promise<void>;
}

/** dist/validation-worker.js beside the bundle that imports this (dist/cli.js, dist/shell/main.js). */
function workerFile(): string | undefined {
  for (const rel of ['./validation-worker.js', '../validation-worker.js']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

export interface ValidationPoolOptions {
  log?: (line: string) => void;
  /** The worker script; default: dist/validation-worker.js beside the bundle; null: none (in-thread). */
  workerFile?: string | null;
}

export function createValidationPool(inThread: (resource: Resource) => string[], options: ValidationPoolOptions = {}): ValidationPool {
  const log = options.log ?? (() => undefined);
  const file = options.workerFile === undefined ? workerFile() : (options.workerFile ?? undefined);
  let worker: Worker | undefined;
  let idle: NodeJS.Timeout | undefined;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (r: string[][]) => void; reject: (e: Error) => void }>();
  let broken = !file;

  function failAll(err: Error): void {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  }

  function start(): Worker {
    const w = new Worker(file!);
    w.unref();
    w.on('message', (msg: { id: number; reasons: string[][] }) => {
      const entry = waiting.get(msg.id);
      waiting.delete(msg.id);
      entry?.resolve(msg.reasons);
    });
    w.on('error', (err) => {
      log(`[fault] the validation worker failed (${err.name}); validating on the main thread`);
      broken = true;
      worker = undefined;
      failAll(err);
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll(new Error('the validation worker stopped'));
    });
    return w;
  }

  const onThread = (resources: readonly Resource[]) => resources.map((r) => inThread(r));
  const early = new WeakMap<object, Promise<string[]>>();

  async function validateAll(resources: readonly Resource[]): Promise<string[][]> {
    const known = resources.map((r) => early.get(r));
    const rest = resources.filter((_r, i) => !known[i]);
    const fresh = rest.length > 0 ? await validateBatch(rest) : [];
    let j = 0;
    return Promise.all(resources.map((r, i) => (early.delete(r), known[i] ?? Promise.resolve(fresh[j++] ?? []))));
  }

  return {
    validateMany: validateAll,
    prevalidate(resources) {
      const todo = resources.filter((r) => r && typeof r === 'object' && !early.has(r));
      if (todo.length === 0) return;
      const batch = validateBatch(todo);
      todo.forEach((r, i) => {
        const p = batch.then((all) => all[i] ?? []);
        p.catch(() => undefined);
        early.set(r, p);
      });
    },
    warm() {
      if (broken) return;
      worker ??= start();
      armIdle(worker);
    },
    close: closePool,
  };

  function armIdle(w: Worker): void {
    clearTimeout(idle);
    idle = setTimeout(() => void w.terminate(), IDLE_MS);
    idle.unref();
  }

  async function validateBatch(resources: readonly Resource[]): Promise<string[][]> {
    if (resources.length === 0) return [];
    if (broken) return onThread(resources);
    worker ??= start();
    const w = worker;
    armIdle(w);
    const id = nextId++;
    try {
      return await new Promise<string[][]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, resources });
      });
    } catch {
      return onThread(resources); // the worker died under this batch: same answer, here
    }
  }

  async function closePool(): Promise<void> {
    clearTimeout(idle);
    const w = worker;
    worker = undefined;
    broken = true;
    if (w) await w.terminate();
  }
}
