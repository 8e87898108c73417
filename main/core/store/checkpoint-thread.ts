/**
 * Checkpoints a SQLCipher WAL database from a worker thread with a connection of its own,
 * so that the checkpoint's work (with SQLCipher every page it copies is decrypted from the
 * WAL and encrypted again into the main file: 12% of the main thread in the Synthea load,
 * docs/benchmarks.md) runs beside the connection that writes. In WAL mode a PASSIVE
 * checkpoint by another connection is safe while that one reads and writes: it copies
 * committed frames only and never blocks a writer.
 *
 * The thread is an eval worker (no built file needed, so it runs from sources too) that
 * loads better-sqlite3 from the path resolved here. Its connection is closed cleanly on
 * close(): if it is the file's last connection, closing checkpoints and removes -wal/-shm.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const key = Buffer.from(workerData.key);
let db;
try {
  db = new Database(workerData.file, { timeout: 5000 });
  db.pragma("cipher='sqlcipher'");
  db.pragma('legacy=4');
  db.pragma('key="x\\'' + key.toString('hex') + '\\'"');
  db.pragma('wal_autocheckpoint = 0');
} catch (err) {
  parentPort.postMessage({ failed: String(err && err.code || 'open') });
  db = undefined;
}
key.fill(0);
const closedFlag = new Int32Array(workerData.closed);
parentPort.on('message', (msg) => {
  if (msg === 'close') {
    try { if (db) db.close(); } finally {
      Atomics.store(closedFlag, 0, 1);
      Atomics.notify(closedFlag, 0);
      parentPort.close();
    }
    return;
  }
  if (!db) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ done: true });
  } catch (err) {
    parentPort.postMessage({ failed: String(err && err.code || 'checkpoint') });
  }
});
`;

export interface CheckpointThread {
  /** Asks for a PASSIVE checkpoint; one at a time, requests made meanwhile are merged. */
  request(): void;
  /** False once the thread failed: the caller checkpoints on its own connection again. */
  usable(): boolean;
  /** No checkpoint is running on the thread (none can start: only request() starts one). */
  idle(): boolean;
  /** Closes the thread's connection, then ends the thread. */
  close(): Promise<void>;
  /**
   * Closes the thread's connection, blocking this thread until it is closed (at most
   * `timeoutMs`), for owners whose own close is synchronous; the thread then ends by itself.
   */
  closeSync(timeoutMs?: number): void;
}

export function startCheckpointThread(file: string, key: Buffer): CheckpointThread {
  // Set to 1 by the thread once its connection is closed (closeSync waits on it).
  const closed = new SharedArrayBuffer(4);
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { module: require.resolve('better-sqlite3-multiple-ciphers'), file, key: new Uint8Array(key), closed },
  });
  worker.unref();
  let busy = false;
  let again = false;
  let broken = false;
  let exited = false;
  const exit = new Promise<void>((done) => worker.once('exit', () => ((exited = true), done())));
  worker.on('error', () => {
    broken = true;
    exited = true; // an uncaught error ends the thread: nothing to wait for
  });
  worker.on('message', (msg: { done?: boolean; failed?: string }) => {
    if (msg.failed) broken = true;
    busy = false;
    if (again && !broken) {
      again = false;
      send();
    }
  });
  const send = () => {
    busy = true;
    worker.postMessage('checkpoint');
  };
  return {
    request() {
      if (broken || exited) return;
      if (busy) again = true;
      else send();
    },
    usable: () => !broken && !exited,
    idle: () => !busy,
    closeSync(timeoutMs = 10_000) {
      if (exited) return;
      worker.postMessage('close');
      Atomics.wait(new Int32Array(closed), 0, 0, timeoutMs);
    },
    async close() {
      if (!exited) {
        const timer = setTimeout(() => void worker.terminate(), 10_000);
        worker.postMessage('close');
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The size past which a WAL is brought back (WalBound), and to which SQLite truncates it
 * when it starts over (`journal_size_limit`, set on every writing connection).
 */
export const WAL_LIMIT_BYTES = 64 * 2 ** 20;
/**
 * WAL growth after which the thread is asked for a checkpoint, whatever the commit count. The
 * smaller it is, the less the writer's own catch-up past WAL_LIMIT_BYTES has left to copy
 * (1 MiB: 48 ms once per 64 MiB in a test writing 48 MB; 8 MiB: 105 ms).
 */
const WAL_STEP_BYTES = 2 ** 20;

/**
 * Keeps a WAL from growing without bound, told of each commit by the writing connection.
 *
 * A PASSIVE checkpoint on the thread's connection never finishes while the writer keeps
 * committing (frames arrive while it copies), and SQLite starts a WAL over only once every
 * frame was copied: in the 60-second load benchmark the store's WAL reached 580-735 MiB. So:
 *  - every WAL_STEP_BYTES of growth the thread is asked for a checkpoint (large commits,
 *    e.g. an import's, are few: a count of commits alone would let the WAL grow far);
 *  - past WAL_LIMIT_BYTES, with the thread idle, a PASSIVE checkpoint runs here, between
 *    this writer's transactions: nothing commits meanwhile, so it copies every frame the
 *    thread has not, the next commit starts the WAL over and SQLite truncates the file.
 */
export class WalBound {
  /** The WAL's size when the thread was last asked. */
  private askedAt = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly thread: CheckpointThread | undefined,
  ) {}

  /** After a commit. Returns 'thread' when it asked the thread, 'here' when it checkpointed here. */
  committed(): 'thread' | 'here' | undefined {
    let size: number;
    try {
      size = statSync(`${this.file}-wal`).size;
    } catch {
      return undefined; // no WAL file (yet)
    }
    if (size < this.askedAt) this.askedAt = 0; // started over
    const threadUsable = this.thread?.usable() ?? false;
    if (size > WAL_LIMIT_BYTES && !this.db.inTransaction && (!threadUsable || this.thread!.idle())) {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.askedAt = 0;
      return 'here';
    }
    if (threadUsable && size - this.askedAt >= WAL_STEP_BYTES) {
      this.askedAt = size;
      this.thread!.request();
      return 'thread';
    }
    return undefined;
  }
}
