/**
 * The index writer thread (index-writer.ts): its own connection to the encrypted index,
 * applying large indexer pages so that their SQL (row inserts, commit, checkpoint) runs
 * beside the main thread. Messages in: { id, changes, checkpoint, tx }, or { id, build }
 * (create the search indexes at the end of a rebuild: IndexDb.buildSearchIndexes); out:
 * { id } or { id, error } (the error's name and SQLite code only: never row content).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openIndexDb, type IndexChange, type Seq, type TxBookkeeping } from './index-db';

const { file, key, definitionsHash } = workerData as { file: string; key: Uint8Array; definitionsHash: string };
// WAL checkpoints on a checkpoint thread of this connection's own, as on the main one: in
// a rebuild this thread is the busier one (measured at 100,325 resources: 2,852-2,914
// resources/s with checkpoints inside its COMMITs, 3,026-3,390 without). The thread may
// start in the middle of a rebuild, with the search indexes dropped: keep it so.
const index = openIndexDb({ file, key: Buffer.from(key), definitionsHash, keepBuilding: true });

type Message = { id: number; changes: IndexChange[]; checkpoint: Seq; tx?: TxBookkeeping } | { id: number; build: true } | { close: true };

parentPort?.on('message', (msg: Message) => {
  if ('close' in msg) {
    index.close(); // checkpoints the WAL if this was the last connection
    parentPort?.close(); // and the thread ends
    return;
  }
  try {
    if ('build' in msg) index.buildSearchIndexes();
    else index.applyBatch(msg.changes, msg.checkpoint, msg.tx);
    parentPort?.postMessage({ id: msg.id });
  } catch (err) {
    const e = err as { name?: string; code?: string };
    parentPort?.postMessage({ id: msg.id, error: `${e.name ?? 'Error'}${e.code ? ` (${e.code})` : ''}` });
  }
});
