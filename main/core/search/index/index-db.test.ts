/**
 * index-db: schema, replace/delete, query primitives (token, string, reference, uri,
 * missing, _id, count/listIds, the columns of :of-type, :identifier and composites),
 * reopening, format and definitions changes.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexOpenError, openIndexDb, type IndexDb } from './index-db';
import { uriAncestors, type QuantityUnit } from './index-queries';
import { INDEX_FORMAT } from './schema';
import { closeTempIndex, openTempIndex, rows, type TempIndex } from './__fixtures__/rows';

let t: TempIndex;
let index: IndexDb;
beforeEach(() => ({ t, index } = openTempIndex()));
afterEach(() => closeTempIndex(t, index));

const ids = (rids: number[]) => index.resolve(rids).map((k) => `${k.type}/${k.id}`);

function seed(): void {
  index.replace('Patient', 'p1', '1.ws', 1000, rows({
    strings: [{ param: 'family', value: 'muller', exact: 'Müller' }, { param: 'name', value: 'eva', exact: 'Eva' }],
    tokens: [
      { param: 'identifier', system: 'http://hospital/mrn', code: '12345', text: null },
      { param: 'gender', system: null, code: 'female', text: null },
    ],
  })); // prettier-ignore
  index.replace('Patient', 'p2', '1.ws', 2000, rows({
    strings: [{ param: 'family', value: 'mueller', exact: 'Mueller' }],
    tokens: [{ param: 'identifier', system: 'http://other/mrn', code: '12345', text: null }],
  })); // prettier-ignore
  index.replace('Observation', 'o1', '1.ws', 3000, rows({
    tokens: [{ param: 'code', system: 'http://loinc.org', code: '8867-4', text: 'heart rate' }],
    references: [
      { param: 'subject', targetType: 'Patient', targetId: 'p1', url: null },
      { param: 'derived-from', targetType: null, targetId: null, url: 'http://elsewhere/Observation/9' },
    ],
  })); // prettier-ignore
  index.replace('ValueSet', 'v1', '1.ws', 4000, rows({ uris: [{ param: 'url', uri: 'http://acme.org/fhir/ValueSet/123' }] }));
}

describe('schema', () => {
  it('creates every table and starts at checkpoint 0, format stored', () => {
    expect(index.reset).toBe(true);
    expect(index.checkpoint()).toBe(0);
    index.close();
    index = openIndexDb({ file: t.file, key: t.key });
    expect(index.reset).toBe(false); // same format: kept
  });

  it('a different format drops everything (a derived index migrates by rebuilding)', () => {
    seed();
    index.applyBatch([], 42);
    index.close();
    const raw = new Database(t.file);
    raw.pragma(`cipher='sqlcipher'`);
    raw.pragma('legacy=4');
    raw.pragma(`key="x'${t.key.toString('hex')}'"`);
    raw.prepare(`UPDATE meta SET value = ? WHERE key = 'format'`).run(JSON.stringify(INDEX_FORMAT - 1));
    raw.close();
    index = openIndexDb({ file: t.file, key: t.key });
    expect(index.reset).toBe(true);
    expect(index.checkpoint()).toBe(0);
    expect(index.count('Patient')).toBe(0);
  });

  it('a new definitions hash clears the index; the same hash keeps it', () => {
    index.close();
    index = openIndexDb({ file: t.file, key: t.key, definitionsHash: 'h1' });
    seed();
    index.applyBatch([], 7);
    index.close();
    index = openIndexDb({ file: t.file, key: t.key, definitionsHash: 'h1' });
    expect([index.reset, index.checkpoint(), index.count('Patient')]).toEqual([false, 7, 2]);
    index.close();
    index = openIndexDb({ file: t.file, key: t.key, definitionsHash: 'h2' });
    expect([index.reset, index.checkpoint(), index.count('Patient'), index.definitionsHash()]).toEqual([true, 0, 0, 'h2']);
  });

  it('a wrong key is an IndexOpenError with SQLITE_NOTADB', () => {
    index.close();
    const wrong = Buffer.alloc(32, 7);
    expect(() => openIndexDb({ file: t.file, key: wrong })).toThrow(IndexOpenError);
    try {
      openIndexDb({ file: t.file, key: wrong });
    } catch (e) {
      expect((e as IndexOpenError).code).toBe('SQLITE_NOTADB');
    }
    index = openIndexDb({ file: t.file, key: t.key });
  });
});

describe('queries', () => {
  beforeEach(seed);

  it('token: code, system|code, |code, system|', () => {
    expect(ids(index.token('Patient', 'identifier', { code: '12345' }))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(ids(index.token('Patient', 'identifier', { system: 'http://hospital/mrn', code: '12345' }))).toEqual(['Patient/p1']);
    expect(ids(index.token('Patient', 'identifier', { system: null, code: '12345' }))).toEqual([]);
    expect(ids(index.token('Patient', 'gender', { system: null, code: 'female' }))).toEqual(['Patient/p1']);
    expect(ids(index.token('Patient', 'identifier', { system: 'http://other/mrn' }))).toEqual(['Patient/p2']);
    expect(ids(index.token('Observation', 'code', { code: '8867-4' }))).toEqual(['Observation/o1']);
    expect(index.token('Observation', 'identifier', { code: '12345' })).toEqual([]); // scoped by type
  });

  it('string: prefix, exact, contains', () => {
    expect(ids(index.string('Patient', 'family', 'mu'))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(ids(index.string('Patient', 'family', 'mul'))).toEqual(['Patient/p1']);
    expect(ids(index.string('Patient', 'family', 'muller'))).toEqual(['Patient/p1']);
    expect(ids(index.string('Patient', 'family', 'Müller', 'exact'))).toEqual(['Patient/p1']);
    expect(ids(index.string('Patient', 'family', 'müller', 'exact'))).toEqual([]);
    expect(ids(index.string('Patient', 'family', 'ell', 'contains'))).toEqual(['Patient/p2']);
    expect(ids(index.string('Patient', 'family', 'ler', 'contains'))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(ids(index.string('Patient', 'name', 'mu'))).toEqual([]); // another param
  });

  it('reference: Type/id, bare id, url', () => {
    expect(ids(index.reference('Observation', 'subject', { targetType: 'Patient', targetId: 'p1' }))).toEqual(['Observation/o1']);
    expect(ids(index.reference('Observation', 'subject', { targetId: 'p1' }))).toEqual(['Observation/o1']);
    expect(ids(index.reference('Observation', 'subject', { targetType: 'Group', targetId: 'p1' }))).toEqual([]);
    expect(ids(index.reference('Observation', 'derived-from', { url: 'http://elsewhere/Observation/9' }))).toEqual(['Observation/o1']);
  });

  it('uri: eq, below, above', () => {
    const url = 'http://acme.org/fhir/ValueSet/123';
    expect(ids(index.uri('ValueSet', 'url', url))).toEqual(['ValueSet/v1']);
    expect(ids(index.uri('ValueSet', 'url', 'http://acme.org/fhir/', 'below'))).toEqual(['ValueSet/v1']);
    expect(ids(index.uri('ValueSet', 'url', 'http://acme.org/other/', 'below'))).toEqual([]);
    expect(ids(index.uri('ValueSet', 'url', `${url}/_history/5`, 'above'))).toEqual(['ValueSet/v1']);
    expect(ids(index.uri('ValueSet', 'url', 'http://acme.org/fhir/ValueSet', 'above'))).toEqual([]);
    expect(uriAncestors('http://a.org/b/c')).toEqual(['http://a.org/b/c', 'http://a.org', 'http://a.org/b']);
  });

  it('missing: true and false', () => {
    expect(ids(index.missing('Patient', 'gender', false))).toEqual(['Patient/p1']);
    expect(ids(index.missing('Patient', 'gender', true))).toEqual(['Patient/p2']);
    expect(ids(index.missing('Patient', 'never-seen', true))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(ids(index.missing('Patient', 'never-seen', false))).toEqual([]);
  });

  it('missing: a param present without a row (a reference with only a display) is not missing', () => {
    index.replace('Observation', 'o2', '1.ws', 5000, rows({ present: new Set(['subject', 'code']), tokens: [{ param: 'code', system: null, code: 'x', text: null }] }));
    expect(ids(index.missing('Observation', 'subject', false))).toEqual(['Observation/o1', 'Observation/o2']);
    expect(ids(index.missing('Observation', 'subject', true))).toEqual([]);
    expect(ids(index.missing('Observation', 'derived-from', true))).toEqual(['Observation/o2']);
    index.replace('Observation', 'o2', '2.ws', 6000, rows({}));
    expect(ids(index.missing('Observation', 'subject', true))).toEqual(['Observation/o2']);
    expect(ids(index.missing('Observation', 'code', false))).toEqual(['Observation/o1']);
  });

  it('_id, count, listIds in id order with paging', () => {
    expect(ids(index.ids('Patient', ['p2', 'nope', 'p1']))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(index.count('Patient')).toBe(2);
    expect(index.listIds('Patient', undefined, 1)).toEqual([{ id: 'p1', vid: '1.ws', lastUpdated: 1000 }]);
    expect(index.listIds('Patient', 'p1', 10).map((r) => r.id)).toEqual(['p2']);
  });

  it('a new version replaces all rows and keeps the rid; a deletion removes everything', () => {
    const [rid] = index.ids('Patient', ['p1']);
    index.replace('Patient', 'p1', '2.ws', 5000, rows({ strings: [{ param: 'family', value: 'schmidt', exact: 'Schmidt' }] }));
    expect(index.ids('Patient', ['p1'])).toEqual([rid]);
    expect(ids(index.string('Patient', 'family', 'mul'))).toEqual([]);
    expect(ids(index.string('Patient', 'family', 'sch'))).toEqual(['Patient/p1']);
    expect(ids(index.missing('Patient', 'gender', true))).toEqual(['Patient/p1', 'Patient/p2']);
    index.replace('Patient', 'p1', '3.ws', 6000, null);
    expect(index.count('Patient')).toBe(1);
    expect(index.string('Patient', 'family', 'sch')).toEqual([]);
    expect(index.ids('Patient', ['p1'])).toEqual([]);
  });

  it('writes the columns of :of-type, :identifier and composite quantities (unit, canonical)', () => {
    index.replace('Patient', 'p3', '1.ws', 7000, rows({
      tokens: [{ param: 'identifier', system: 'http://ssa', code: '9', text: null, ofTypeSystem: 'http://v2', ofTypeCode: 'SS' }],
    })); // prettier-ignore
    expect(ids(index.tokenOfType('Patient', 'identifier', { typeSystem: 'http://v2', typeCode: 'SS', value: '9' }))).toEqual(['Patient/p3']);
    expect(index.tokenOfType('Patient', 'identifier', { typeSystem: 'http://v2', typeCode: 'MR', value: '9' })).toEqual([]);
    index.replace('Observation', 'o2', '1.ws', 7000, rows({
      references: [{ param: 'subject', targetType: null, targetId: null, url: null, identifierSystem: 'http://sys', identifierValue: '7' }],
      composites: [{ param: 'code-value-quantity', components: [
        { param: 'code', type: 'token', rows: [{ param: 'code', system: 'http://loinc.org', code: '2823-3', text: null }] },
        { param: 'value-quantity', type: 'quantity', rows: [{
          param: 'value-quantity', system: 'http://unitsofmeasure.org', code: 'mmol/L', unit: 'millimoles', low: 5.85, high: 5.95,
          canonicalCode: 'mol.m-3', canonicalLow: 5.85, canonicalHigh: 5.95 }] },
      ] }],
    })); // prettier-ignore
    expect(ids(index.referenceIdentifier('Observation', 'subject', { system: 'http://sys', code: '7' }))).toEqual(['Observation/o2']);
    expect(index.reference('Observation', 'subject', { targetId: '7' })).toEqual([]);
    const potassium = { type: 'token', q: { system: 'http://loinc.org', code: '2823-3' } } as const;
    const composite = (unit: QuantityUnit, low: number) =>
      ids(index.composite('Observation', 'code-value-quantity', [potassium, { type: 'quantity', q: { prefix: 'gt', low, high: low, unit } }]));
    expect(composite({ match: 'canonical', code: 'mol.m-3' }, 5.5)).toEqual(['Observation/o2']);
    expect(composite({ match: 'canonical', code: 'mol.m-3' }, 6)).toEqual([]);
    expect(composite({ match: 'code-or-unit', unit: 'millimoles' }, 5.5)).toEqual(['Observation/o2']);
    expect(composite({ match: 'code-or-unit', unit: 'mol' }, 5.5)).toEqual([]);
  });

  it('clear empties everything and resets the checkpoint', () => {
    index.applyBatch([], 12);
    index.clear();
    expect([index.checkpoint(), index.count('Patient'), index.token('Patient', 'identifier', { code: '12345' })]).toEqual([0, 0, []]);
  });
});
