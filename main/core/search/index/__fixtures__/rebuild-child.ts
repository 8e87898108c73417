/**
 * Child process for the interrupted-rebuild test (indexer.rebuild-kill.test.ts): rebuilds
 * the index of a store whose pages go to a second connection (as the index writer thread's
 * would, opened with keepBuilding), prints "page <changes>" once the first page is
 * committed and then blocks, so that the parent's SIGKILL lands in the middle of the
 * rebuild: rows and checkpoint committed, the search indexes not built yet.
 *   node child.mjs <dir> <storeKeyHex> <indexKeyHex>
 */
import { join } from 'node:path';
import { openEncryptedPouch } from '../../../store/encrypted-pouch';
import { openIndexDb, type IndexChange, type Seq, type TxBookkeeping } from '../index-db';
import { createIndexer } from '../indexer';
import { trivialExtract } from './rows';

const [dir, storeKey, indexKey] = process.argv.slice(2);
if (!dir || !storeKey || !indexKey) throw new Error('usage: <dir> <storeKeyHex> <indexKeyHex>');
const db = await openEncryptedPouch({ file: join(dir, 'store.db'), key: Buffer.from(storeKey, 'hex') });
const file = join(dir, 'index.db');
const index = openIndexDb({ file, key: Buffer.from(indexKey, 'hex') });
let threadSide: ReturnType<typeof openIndexDb> | undefined;
const writer = {
  usable: () => true,
  async apply(changes: readonly IndexChange[], checkpoint: Seq, tx?: TxBookkeeping) {
    threadSide ??= openIndexDb({ file, key: Buffer.from(indexKey, 'hex'), keepBuilding: true, checkpointThread: false });
    threadSide.applyBatch(changes, checkpoint, tx);
  },
  buildSearchIndexes: async () => threadSide?.buildSearchIndexes(),
  close: async () => undefined,
};
const indexer = createIndexer({ db, index, extract: trivialExtract, writer });
await indexer.rebuild((p) => {
  process.stdout.write(`page ${p.processed}\n`); // stdout to a pipe is synchronous on Linux
  // Blocks the thread (no timer, no commit runs) until the parent kills it; bounded.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
process.stdout.write('finished\n');
