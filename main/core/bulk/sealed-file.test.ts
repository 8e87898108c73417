/**
 * Sealed files (sealed-file.ts) on a real disk: what is written reads back whole, nothing
 * is in plaintext, and a file that was altered, cut at any point, given another file's
 * label or read with another key is refused rather than read in part.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSealed, SealedFileError, SealedWriter } from './sealed-file';

const dir = mkdtempSync(join(tmpdir(), 'flint-sealed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = randomBytes(32);

async function sealedOf(name: string, lines: string[]): Promise<string> {
  const file = join(dir, name);
  const w = await SealedWriter.create(file, key, name);
  for (const l of lines) await w.write(l);
  await w.close();
  return file;
}

describe('sealed files', () => {
  it('read back exactly what was written, over several chunks, with no plaintext on disk', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `{"resourceType":"Patient","id":"p${i}","name":[{"family":"Secretname${i}"}]}\n`);
    const file = await sealedOf('many.ndjson', lines);
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(2 << 20); // more than two chunks
    expect(bytes.includes(Buffer.from('Secretname'))).toBe(false);
    expect((await readSealed(file, key, 'many.ndjson')).toString('utf8')).toBe(lines.join(''));
    const empty = await sealedOf('empty.ndjson', []);
    expect((await readSealed(empty, key, 'empty.ndjson')).length).toBe(0);
  });

  it('refuses a file altered, cut short, labelled for another file or read with another key', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"id":"${i}","text":"${'x'.repeat(60)}"}\n`);
    const file = await sealedOf('victim.ndjson', lines);
    const good = readFileSync(file);
    const refused = async (bytes: Buffer, label = 'victim.ndjson', k = key) => {
      const f = join(dir, `bad-${randomBytes(4).toString('hex')}`);
      writeFileSync(f, bytes);
      await expect(readSealed(f, k, label)).rejects.toBeInstanceOf(SealedFileError);
    };
    const flipped = Buffer.from(good);
    flipped[good.length >> 1]! ^= 1;
    await refused(flipped);
    // Cut anywhere, a chunk boundary included (the first chunk ends at 4 + 4 + 12 + 1 MiB + 16).
    const boundary = 4 + 4 + 12 + (1 << 20) + 16;
    for (const at of [3, 10, 1000, boundary, good.length - 1]) await refused(good.subarray(0, at));
    await refused(good, 'other.ndjson');
    await refused(good, 'victim.ndjson', randomBytes(32));
  });

  it('never overwrites an existing file', async () => {
    const file = await sealedOf('once.ndjson', ['a\n']);
    await expect(SealedWriter.create(file, key, 'once.ndjson')).rejects.toThrow();
  });
});
