/**
 * Test helpers: hand-built IndexRows and a trivial extractor (tests must not depend on
 * search/extract), plus a temp folder holding an index.db with a random key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndexDb, type IndexDb } from '../index-db';
import { emptyIndexRows, type IndexRows } from '../index-rows';

export function rows(partial: Partial<IndexRows>): IndexRows {
  const r = { ...emptyIndexRows(), ...partial };
  if (!partial.present) {
    for (const list of [r.strings, r.tokens, r.references, r.dates, r.numbers, r.quantities, r.uris, r.composites]) {
      for (const row of list) r.present.add(row.param);
    }
  }
  return r;
}

/** Minimal extractor for the indexer tests: family (string), gender/code (token), subject (reference). */
export function trivialExtract(resource: object): IndexRows {
  const r = resource as {
    name?: Array<{ family?: string }>;
    gender?: string;
    code?: { coding?: Array<{ system?: string; code?: string }> };
    subject?: { reference?: string };
  };
  const out = emptyIndexRows();
  for (const n of r.name ?? []) if (n.family) out.strings.push({ param: 'family', value: n.family.toLowerCase(), exact: n.family });
  if (r.gender) out.tokens.push({ param: 'gender', system: null, code: r.gender, text: null });
  for (const c of r.code?.coding ?? []) out.tokens.push({ param: 'code', system: c.system ?? null, code: c.code ?? null, text: null });
  const ref = r.subject?.reference?.split('/');
  if (ref?.length === 2) out.references.push({ param: 'subject', targetType: ref[0]!, targetId: ref[1]!, url: null });
  for (const list of [out.strings, out.tokens, out.references]) for (const row of list) out.present.add(row.param);
  return out;
}

export interface TempIndex {
  dir: string;
  file: string;
  key: Buffer;
  cleanup(): void;
}

export function tempIndex(): TempIndex {
  const dir = mkdtempSync(join(tmpdir(), 'flint-index-'));
  return { dir, file: join(dir, 'index.db'), key: randomBytes(32), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary index folder with the index open in it (for a test's beforeEach). */
export function openTempIndex(): { t: TempIndex; index: IndexDb } {
  const t = tempIndex();
  return { t, index: openIndexDb({ file: t.file, key: t.key }) };
}

/** Closes the index and removes its folder (for a test's afterEach). */
export function closeTempIndex(t: TempIndex, index: IndexDb): void {
  index.close();
  t.cleanup();
}
