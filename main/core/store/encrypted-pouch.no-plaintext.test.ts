/**
 * NO PLAINTEXT: nothing written through an encrypted pouch may be readable in any file of
 * its folder (main file, -wal, -shm), neither while the store is open nor after close.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openEncryptedPouch } from './encrypted-pouch';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-plain-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root` whose bytes contain the marker in UTF-8, UTF-16LE or UTF-16BE. */
function filesContaining(root: string, marker: string): string[] {
  const needles = [Buffer.from(marker, 'utf8'), Buffer.from(marker, 'utf16le'), Buffer.from(marker, 'utf16le').swap16()];
  const hits: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    if (needles.some((n) => bytes.includes(n))) hits.push(path);
  }
  return hits;
}

function listFiles(root: string): string[] {
  return readdirSync(root).sort();
}

it('the scanner finds a marker in UTF-8 and UTF-16 (positive control)', () => {
  const marker = `MARK${randomBytes(6).toString('hex')}`;
  writeFileSync(join(dir, 'u8.txt'), `..${marker}..`);
  writeFileSync(join(dir, 'u16.txt'), Buffer.from(`..${marker}..`, 'utf16le'));
  writeFileSync(join(dir, 'u16be.txt'), Buffer.from(`..${marker}..`, 'utf16le').swap16());
  expect(filesContaining(dir, marker)).toHaveLength(3);
});

it('leaks no id, body, attachment or _local content to disk, open or closed', async () => {
  const marker = `MARK${randomBytes(6).toString('hex')}`;
  const file = join(dir, 'store.db');
  const db = await openEncryptedPouch({ file, key: randomBytes(32) });

  // Enough data (~6 MB) to pass the WAL auto-checkpoint, so the main file holds pages too.
  const filler = `${marker} `.repeat(150);
  await db.bulkDocs(
    Array.from({ length: 3000 }, (_, i) => ({ _id: `Patient/${marker}-${i}`, family: marker, note: filler })),
  );
  await db.put({
    _id: `DocumentReference/${marker}`,
    _attachments: {
      [`${marker}.txt`]: { content_type: 'text/plain', data: Buffer.from(`scan of ${marker}`.repeat(50)) },
      'utf16.bin': { content_type: 'application/octet-stream', data: Buffer.from(`${marker}`.repeat(20), 'utf16le') },
    },
  });
  await db.put({ _id: `_local/${marker}`, checkpoint: marker });
  const first = await db.get<{ family: string }>(`Patient/${marker}-0`);
  await db.put({ ...first, family: `${marker}-edited` }); // an update, so compaction runs too

  const openFiles = listFiles(dir);
  expect(openFiles).toEqual(['store.db', 'store.db-shm', 'store.db-wal']);
  expect(filesContaining(dir, marker)).toEqual([]);
  expect(filesContaining(dir, 'Patient/')).toEqual([]);

  // Reads still return the plaintext, attachments included.
  const doc = await db.get(`DocumentReference/${marker}`, { attachments: true, binary: true });
  expect(String(doc._attachments?.[`${marker}.txt`]?.['data'])).toContain(marker);

  await db.close();
  expect(listFiles(dir)).toEqual(['store.db']);
  expect(filesContaining(dir, marker)).toEqual([]);
  expect(filesContaining(dir, 'Patient/')).toEqual([]);
  expect(filesContaining(dir, 'SQLite format 3')).toEqual([]); // even the header is encrypted
});
