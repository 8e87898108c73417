/**
 * index-db in a full rebuild: clear({ dropIndexes }) drops the search indexes and marks the
 * index in one transaction (in a new file), buildSearchIndexes() creates them again; an index opened with
 * the mark (a rebuild that was interrupted) is recreated empty so that it is rebuilt, and
 * rows written without the indexes give the same tables and the same answers as rows
 * written with them.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { readdirSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndexDb, type IndexChange, type IndexDb } from './index-db';
import { closeTempIndex, openTempIndex, rows, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let index: IndexDb;
beforeEach(() => ({ t, index } = openTempIndex()));
afterEach(() => closeTempIndex(t, index));

/** The file as SQLite sees it, with the index's key, for looking at the schema. */
function raw(file: string, key: Buffer): Database.Database {
  const db = new Database(file);
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`key="x'${key.toString('hex')}'"`);
  return db;
}

const indexNames = (db: IndexDb) => {
  db.close();
  const r = raw(t.file, t.key);
  const names = (r.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).all() as Array<{ name: string }>).map((x) => x.name);
  r.close();
  return names;
};

function change(i: number): IndexChange {
  return {
    type: i % 3 === 0 ? 'Observation' : 'Patient',
    id: `r${i}`,
    vid: '1.ws',
    lastUpdated: 1000 + i,
    rows: rows({
      strings: [{ param: 'family', value: `fam${i % 17}`, exact: `Fam${i % 17}` }],
      tokens: [
        { param: 'identifier', system: `http://sys/${i % 5}`, code: `${i % 11}`, text: i % 2 ? `t${i % 7}` : null },
        { param: 'gender', system: null, code: i % 2 ? 'female' : 'male', text: null },
      ],
      references: i % 4 ? [{ param: 'subject', targetType: 'Patient', targetId: `r${i % 13}`, url: null }] : [],
      dates: [{ param: 'birthdate', start: i * 1000, end: i * 1000 + 1000 }],
      numbers: [{ param: 'probability', low: i / 10, high: i / 10 + 0.05 }],
      quantities: [{ param: 'value-quantity', system: 'http://unitsofmeasure.org', code: 'mg', unit: 'mg', low: i, high: i + 0.5 }],
      uris: [{ param: 'url', uri: `http://acme.org/${i % 9}` }],
    }),
  };
}
const changes = Array.from({ length: 300 }, (_, i) => change(i));

/** Every row of every table but meta, in a stable order. */
function dump(db: IndexDb): unknown {
  db.close();
  const r = raw(t.file, t.key);
  const tables = (r.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'meta' ORDER BY name`).all() as Array<{ name: string }>).map((x) => x.name);
  const sorted = (name: string) => r.prepare(`SELECT * FROM ${name}`).all().map((row) => JSON.stringify(row)).sort();
  const out = Object.fromEntries(tables.map((name) => [name, sorted(name)]));
  r.close();
  return out;
}

describe('a full rebuild without the search indexes', () => {
  it('drops them with the mark in one transaction and creates them again at the end', () => {
    const all = indexNames(index);
    expect(all).toContain('sp_token_code');
    index = openIndexDb({ file: t.file, key: t.key });
    index.clear(undefined, { dropIndexes: true });
    expect(index.building()).toBe(true);
    const during = indexNames(index);
    // Only the indexes in rid (insertion) order stay: rows are appended to them.
    expect(during.filter((n) => !n.endsWith('_rid'))).toEqual(['resource_updated', 'sp_composite_element']);
    index = openIndexDb({ file: t.file, key: t.key, keepBuilding: true });
    expect([index.reset, index.building()]).toEqual([false, true]);
    index.applyBatch(changes, 5);
    index.buildSearchIndexes();
    expect(index.building()).toBe(false);
    expect(indexNames(index)).toEqual(all);
    index = openIndexDb({ file: t.file, key: t.key });
    expect([index.reset, index.checkpoint(), index.count('Patient')]).toEqual([false, 5, 200]);
  });

  it('starts from a new file: empty, checkpoint 0, definitions hash kept, custom params recorded; closes cleanly', () => {
    index.close();
    index = openIndexDb({ file: t.file, key: t.key, definitionsHash: 'h1' });
    index.applyBatch(changes, 8);
    const before = statSync(t.file).size;
    index.clear([{ code: 'x' }], { dropIndexes: true });
    expect([index.checkpoint(), index.count('Patient'), index.definitionsHash(), index.customParams(), index.building()]).toEqual([0, 0, 'h1', [{ code: 'x' }], true]);
    expect(statSync(t.file).size).toBeLessThan(before);
    index.applyBatch(changes.slice(0, 3), 2, undefined, { defer: true }); // the new connection works, deferred too
    index.buildSearchIndexes();
    index.close();
    expect(readdirSync(t.dir)).toEqual(['index.db']); // the new checkpoint thread closed before it
    index = openIndexDb({ file: t.file, key: t.key, definitionsHash: 'h1' });
    expect([index.reset, index.checkpoint(), index.count('Patient'), index.customParams()]).toEqual([false, 2, 2, [{ code: 'x' }]]);
  });

  it('an index opened in the middle of one was interrupted: it is recreated empty and must be rebuilt', () => {
    index.applyBatch(changes.slice(0, 10), 3);
    index.clear(['custom'], { dropIndexes: true });
    index.applyBatch(changes, 9); // rows and checkpoint committed, the indexes never built: then killed
    index.close();
    index = openIndexDb({ file: t.file, key: t.key });
    expect([index.reset, index.building(), index.checkpoint(), index.count('Patient'), index.customParams()]).toEqual([true, false, 0, 0, undefined]);
    const names = indexNames(index);
    expect(names).toContain('sp_token_code');
    expect(names).toContain('sp_reference_target');
    index = openIndexDb({ file: t.file, key: t.key });
    expect(index.reset).toBe(false);
  });

  it('buildSearchIndexes commits deferred batches first and does nothing on an index not being rebuilt', () => {
    index.applyBatch(changes.slice(0, 5), 1, undefined, { defer: true });
    index.buildSearchIndexes();
    expect(index.building()).toBe(false);
    index.close();
    index = openIndexDb({ file: t.file, key: t.key });
    expect(index.checkpoint()).toBe(1);
  });

  it('gives the same tables and the same answers as rows inserted into the indexes', () => {
    // Live: one change at a time, into indexed tables.
    for (let i = 0; i < changes.length; i += 7) index.applyBatch(changes.slice(i, i + 7), i);
    index.applyBatch([], 'end');
    const live = dump(index);
    const ask = (db: IndexDb) => [
      db.token('Patient', 'identifier', { system: 'http://sys/2', code: '3' }),
      db.token('Patient', 'gender', { code: 'female' }).length,
      db.tokenText('Patient', 'identifier', 't3'),
      db.string('Patient', 'family', 'fam1'),
      db.reference('Observation', 'subject', { targetType: 'Patient', targetId: 'r4' }),
      db.date('Patient', 'birthdate', 'ge', 100_000, 100_999, Date.now()),
      db.number('Patient', 'probability', { prefix: 'gt', low: 12, high: 12 }),
      db.uri('Patient', 'url', 'http://acme.org/', 'below').length,
      db.missing('Observation', 'subject', true),
    ];
    index = openIndexDb({ file: t.file, key: t.key });
    const liveAnswers = ask(index);
    // Rebuilt: cleared without the indexes, pages appended, indexes built at the end.
    index.clear(undefined, { dropIndexes: true });
    for (let i = 0; i < changes.length; i += 100) index.applyBatch(changes.slice(i, i + 100), i);
    index.applyBatch([], 'end');
    expect(ask(index)).toEqual(liveAnswers); // without indexes: slower, still right
    index.buildSearchIndexes();
    expect(ask(index)).toEqual(liveAnswers);
    expect(dump(index)).toEqual(live);
    index = openIndexDb({ file: t.file, key: t.key });
  });
});
