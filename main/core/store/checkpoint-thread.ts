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

/** Slots of the state shared with the thread. */
const CLOSED = 0;
const BUSY = 1;

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
// [CLOSED]: 1 once the connection is closed; [BUSY]: 1 while a checkpoint is asked for or running.
const state = new Int32Array(workerData.state);
function signal(slot, value) {
  Atomics.store(state, slot, value);
  Atomics.notify(state, slot);
}
parentPort.on('message', (msg) => {
  if (msg === 'close') {
    try { if (db) db.close(); } finally {
      signal(${CLOSED}, 1);
      signal(${BUSY}, 0);
      parentPort.close();
    }
    return;
  }
  let reply;
  try {
    if (db) db.pragma('wal_checkpoint(PASSIVE)');
    reply = db ? { done: true } : { failed: 'open' };
  } catch (err) {
    reply = { failed: String(err && err.code || 'checkpoint') };
  }
  signal(${BUSY}, 0);
  parentPort.postMessage(reply);
});
`;

export interface CheckpointThread {
  /** Asks for a PASSIVE checkpoint; one at a time, requests made meanwhile are merged. */
  request(): void;
  /** False once the thread failed: the caller checkpoints on its own connection again. */
  usable(): boolean;
  /**
   * Drops a merged request and blocks this thread until the running checkpoint ended (at most
   * `timeoutMs`), so that the caller's own checkpoint is not refused as busy. True when idle.
   */
  waitIdle(timeoutMs: number): boolean;
  /** Closes the thread's connection, then ends the thread. */
  close(): Promise<void>;
  /**
   * Closes the thread's connection, blocking this thread until it is closed (at most
   * `timeoutMs`), for owners whose own close is synchronous; the thread then ends by itself.
   */
  closeSync(timeoutMs?: number): void;
}

export function startCheckpointThread(file: string, key: Buffer): CheckpointThread {
  // Shared with the thread: [CLOSED] is set once its connection is closed (closeSync waits
  // on it); [BUSY] from a request until that checkpoint ended (waitIdle waits on it).
  const state = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { module: require.resolve('better-sqlite3-multiple-ciphers'), file, key: new Uint8Array(key), state: state.buffer },
  });
  worker.unref();
  let again = false;
  let broken = false;
  let exited = false;
  const busy = () => Atomics.load(state, BUSY) === 1;
  const exit = new Promise<void>((done) => worker.once('exit', () => ((exited = true), done())));
  worker.on('error', () => {
    broken = true;
    exited = true; // an uncaught error ends the thread: nothing to wait for
  });
  worker.on('message', (msg: { done?: boolean; failed?: string }) => {
    if (msg.failed) broken = true;
    // A reply can come after waitIdle() saw the thread idle and a new request went out.
    if (again && !broken && !busy()) {
      again = false;
      send();
    }
  });
  const send = () => {
    Atomics.store(state, BUSY, 1);
    worker.postMessage('checkpoint');
  };
  return {
    request() {
      if (broken || exited) return;
      if (busy()) again = true;
      else send();
    },
    usable: () => !broken && !exited,
    waitIdle(timeoutMs) {
      again = false;
      if (!exited && busy()) Atomics.wait(state, BUSY, 1, timeoutMs);
      return !busy();
    },
    closeSync(timeoutMs = 10_000) {
      if (exited) return;
      worker.postMessage('close');
      Atomics.wait(state, CLOSED, 0, timeoutMs);
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
 * How long a writer past WAL_LIMIT_BYTES waits for the thread's running checkpoint, which
 * copies at most the frames written since it was last asked (about WAL_STEP_BYTES when it
 * keeps up); past this the writer goes on and tries again after its next commit.
 */
const WAIT_FOR_THREAD_MS = 5_000;

/**
 * Keeps a WAL from growing without bound, told of each commit by the writing connection.
 *
 * A PASSIVE checkpoint on the thread's connection never finishes while the writer keeps
 * committing (frames arrive while it copies), and SQLite starts a WAL over only once every
 * frame was copied: in the 60-second load benchmark the store's WAL reached 580-735 MiB. So:
 *  - every WAL_STEP_BYTES of growth the thread is asked for a checkpoint (large commits,
 *    e.g. an import's, are few: a count of commits alone would let the WAL grow far);
 *  - past WAL_LIMIT_BYTES the writer waits for the thread's running checkpoint to end, then
 *    runs a PASSIVE checkpoint here, between its own transactions: nothing commits
 *    meanwhile, so it copies every frame the thread has not, the next commit starts the
 *    WAL over and SQLite truncates the file. The WAL so stays within one commit of the limit.
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
    if (size > WAL_LIMIT_BYTES && !this.db.inTransaction) {
      // Only one checkpoint runs at a time (a second one is refused as busy), and the thread
      // may never be idle on its own while commits come in: each request made during its
      // checkpoint starts the next. On a busy machine the WAL so reached 163 MB in a test
      // writing 128 MiB. So the writer waits for the running one, then copies the rest.
      // Still busy after the wait: this checkpoint would be refused; try after the next commit.
      if (threadUsable && !this.thread!.waitIdle(WAIT_FOR_THREAD_MS)) return undefined;
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
