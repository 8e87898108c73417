/**
 * Child process for the durability tests: writes to an encrypted store as fast as it can
 * and prints a line for every write PouchDB acknowledged, until the parent kills it.
 *   node child.mjs <file> <keyHex> put            -> "ack <docId>" per put()
 *   node child.mjs <file> <keyHex> bulk <size>    -> "begin <batch>" before and "ack <batch>" after
 *                                                    each bulkDocs() of <size> docs
 */
import { openEncryptedPouch } from '../encrypted-pouch';

const [file, keyHex, mode, size] = process.argv.slice(2);
if (!file || !keyHex || (mode !== 'put' && mode !== 'bulk')) throw new Error('usage: <file> <keyHex> put|bulk [size]');
const db = await openEncryptedPouch({ file, key: Buffer.from(keyHex, 'hex') });
const pad = (n: number) => String(n).padStart(6, '0');
const body = 'x'.repeat(300);
process.stdout.write('ready\n');
// Bounded so a parent that fails to kill us does not fill the disk.
for (let i = 0; i < 200_000; i++) {
  if (mode === 'put') {
    await db.put({ _id: `doc-${pad(i)}`, i, body });
    process.stdout.write(`ack doc-${pad(i)}\n`); // stdout to a pipe is synchronous on Linux
  } else {
    const docs = Array.from({ length: Number(size) }, (_, j) => ({ _id: `b${pad(i)}-${pad(j)}`, batch: i, body }));
    process.stdout.write(`begin ${i}\n`);
    const results = await db.bulkDocs(docs);
    if (results.some((r) => 'error' in r && r.error)) throw new Error(`batch ${i} had errors`);
    process.stdout.write(`ack ${i}\n`);
  }
}
