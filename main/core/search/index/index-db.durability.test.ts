/**
 * NO PLAINTEXT in any file of the index's folder (open, with -wal/-shm, and closed), and
 * checkpoint atomicity: rows and checkpoint are committed together or not at all.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openIndexDb, type IndexChange, type IndexDb } from './index-db';
import type { IndexRows } from './index-rows';
import { closeTempIndex, openTempIndex, rows, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let index: IndexDb;
beforeEach(() => ({ t, index } = openTempIndex()));
afterEach(() => closeTempIndex(t, index));

/** Files under `root` whose bytes contain the marker in UTF-8, UTF-16LE or UTF-16BE. */
function filesContaining(root: string, marker: string): string[] {
  const needles = [Buffer.from(marker, 'utf8'), Buffer.from(marker, 'utf16le'), Buffer.from(marker, 'utf16le').swap16()];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => needles.some((n) => readFileSync(path).includes(n)));
}

function markedRows(marker: string, i: number): IndexRows {
  const filler = `${marker} `.repeat(20);
  return rows({
    strings: [{ param: 'family', value: `${marker}-${i} ${filler}`, exact: `${marker}-${i}` }],
    tokens: [{ param: 'identifier', system: `http://${marker}/mrn`, code: `${marker}-${i}`, text: marker }],
    references: [{ param: 'subject', targetType: 'Patient', targetId: `${marker}-${i}`, url: `http://x/${marker}` }],
    uris: [{ param: 'url', uri: `http://${marker}/${i}` }],
    dates: [{ param: 'birthdate', start: i, end: i + 1 }],
  });
}

it('leaks no value, id, parameter code or checkpoint to disk, open or closed', () => {
  const marker = `MARK${randomBytes(6).toString('hex')}`;
  // ~5 MB of rows: past the WAL auto-checkpoint, so the main file holds pages too.
  for (let b = 0; b < 10; b++) {
    const batch: IndexChange[] = Array.from({ length: 300 }, (_, k) => {
      const i = b * 300 + k;
      return { type: 'Patient', id: `${marker}-${i}`, vid: `1.${marker}`, lastUpdated: i, rows: markedRows(marker, i) };
    });
    index.applyBatch(batch, `${b}-${marker}`);
  }
  expect(index.string('Patient', 'family', `${marker}-29`).length).toBe(111); // 29, 290..299, 2900..2999: it is there
  expect(readdirSync(t.dir).sort()).toEqual(['index.db', 'index.db-shm', 'index.db-wal']);
  expect(filesContaining(t.dir, marker)).toEqual([]);
  expect(filesContaining(t.dir, 'identifier')).toEqual([]);

  index.close();
  expect(readdirSync(t.dir)).toEqual(['index.db']);
  expect(filesContaining(t.dir, marker)).toEqual([]);
  expect(filesContaining(t.dir, 'SQLite format 3')).toEqual([]); // even the header is encrypted
  index = openIndexDb({ file: t.file, key: t.key });
  expect(index.checkpoint()).toBe(`9-${marker}`);
});

it('a committed batch survives reopening with its checkpoint', () => {
  const change = (id: string): IndexChange => ({ type: 'Patient', id, vid: '1.ws', lastUpdated: 1, rows: markedRows('x', 1) });
  index.applyBatch([change('a'), change('b')], 10);
  index.close();
  index = openIndexDb({ file: t.file, key: t.key });
  expect(index.checkpoint()).toBe(10);
  expect(index.count('Patient')).toBe(2);
});

it('a batch that fails midway leaves neither its rows nor its checkpoint', () => {
  const ok = (id: string, param = 'family'): IndexChange => ({
    type: 'Patient', id, vid: '1.ws', lastUpdated: 1,
    rows: rows({ strings: [{ param, value: id, exact: id }] }),
  }); // prettier-ignore
  index.applyBatch([ok('a')], 1);
  // The third change violates NOT NULL (sp_string.value) after two were written; the first
  // also interns a parameter ('brand-new') that the rollback takes away again.
  const bad: IndexChange = { ...ok('c'), rows: rows({ strings: [{ param: 'family', value: null as unknown as string, exact: 'c' }] }) };
  expect(() => index.applyBatch([ok('b', 'brand-new'), { ...ok('a'), rows: null }, bad], 2)).toThrow(/NOT NULL/);

  expect(index.checkpoint()).toBe(1);
  expect(index.ids('Patient', ['a', 'b', 'c']).length).toBe(1); // a is still there, b and c are not
  expect(index.string('Patient', 'family', 'a')).toHaveLength(1);
  expect(index.string('Patient', 'brand-new', 'b')).toEqual([]);
  // The rolled-back param id must not linger in the cache: interning it again works.
  index.applyBatch([ok('b', 'brand-new')], 3);
  expect(index.string('Patient', 'brand-new', 'b')).toHaveLength(1);
  index.close();
  index = openIndexDb({ file: t.file, key: t.key });
  expect([index.checkpoint(), index.count('Patient')]).toEqual([3, 2]);
});
