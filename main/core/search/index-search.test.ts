import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../fhir/definitions';
import { parseCriteria, splitToken, splitValues } from './criteria';
import { createExtractor } from './extract/extract';
import { openIndexDb, type IndexDb } from './index/index-db';
import { IndexSearch } from './index-search';

const defs = loadDefinitions();
const extractor = createExtractor(defs);
let dir: string;
let index: IndexDb;
let search: IndexSearch;

const patient = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { lastUpdated: '2024-03-01T10:00:00Z' },
  identifier: [{ system: 'http://mrn', value: 'A-1' }],
  name: [{ family: 'Müller', given: ['Zoë'] }],
  gender: 'female',
  birthDate: '1970-05-17',
  active: true,
  telecom: [{ system: 'phone', value: '555-1234' }],
  managingOrganization: { reference: 'Organization/o1' },
};
const other = { resourceType: 'Patient', id: 'p2', meta: { lastUpdated: '2024-03-02T10:00:00Z' }, gender: 'male' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-index-search-'));
  index = openIndexDb({ file: join(dir, 'index.db'), key: randomBytes(32) });
  for (const r of [patient, other]) {
    index.replace('Patient', r.id, '1.x', Date.parse(r.meta.lastUpdated), extractor.extract(r as Resource));
  }
  search = new IndexSearch(index, () => 'http://127.0.0.1:1/fhir');
});
afterAll(() => {
  index.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = (query: string) => search.matchIds('Patient', parseCriteria(defs, 'Patient', new URLSearchParams(query)).filters);

describe('index search semantics', () => {
  it('matches tokens: code, system|code, |code, system|, :not', () => {
    expect(ids('identifier=A-1')).toEqual(['p1']);
    expect(ids('identifier=http://mrn|A-1')).toEqual(['p1']);
    expect(ids('identifier=http://other|A-1')).toEqual([]);
    expect(ids('identifier=|A-1')).toEqual([]);
    expect(ids('identifier=http://mrn|')).toEqual(['p1']);
    expect(ids('gender=female')).toEqual(['p1']);
    expect(ids('gender:not=female')).toEqual(['p2']);
    expect(ids('active=true')).toEqual(['p1']);
    expect(ids('_id=p2')).toEqual(['p2']);
  });

  it('matches strings case- and accent-insensitively by prefix; :exact and :contains', () => {
    expect(ids('family=muller')).toEqual(['p1']);
    expect(ids('name=zo')).toEqual(['p1']);
    expect(ids('family:exact=Müller')).toEqual(['p1']);
    expect(ids('family:exact=muller')).toEqual([]);
    expect(ids('family:contains=ll')).toEqual(['p1']);
    expect(ids('family=ller')).toEqual([]);
  });

  it('matches references by id, Type/id and this server\'s absolute URL', () => {
    expect(ids('organization=o1')).toEqual(['p1']);
    expect(ids('organization=Organization/o1')).toEqual(['p1']);
    expect(ids('organization=http://127.0.0.1:1/fhir/Organization/o1')).toEqual(['p1']);
    expect(ids('organization=Organization/o2')).toEqual([]);
  });

  it('matches dates with prefixes and partial dates', () => {
    expect(ids('birthdate=1970')).toEqual(['p1']);
    expect(ids('birthdate=1970-05')).toEqual(['p1']);
    expect(ids('birthdate=lt1970-05-17')).toEqual([]);
    expect(ids('birthdate=ge1970-05-17')).toEqual(['p1']);
    expect(ids('_lastUpdated=gt2024-03-01T12:00:00Z')).toEqual(['p2']);
  });

  it('handles :missing, OR within a parameter and AND across parameters', () => {
    expect(ids('birthdate:missing=true')).toEqual(['p2']);
    expect(ids('birthdate:missing=false')).toEqual(['p1']);
    expect(ids('gender=male,female')).toEqual(['p1', 'p2']);
    expect(ids('gender=female&family=smith')).toEqual([]);
    expect(ids('')).toEqual(['p1', 'p2']);
  });

  it('reports what it cannot evaluate', () => {
    const p = parseCriteria(defs, 'Patient', new URLSearchParams('nonsense=1&family:above=x&_count=5&death-date=2020'));
    expect(p.unsupported.sort()).toEqual(['family:above', 'nonsense']);
  });

  it('splits escaped values', () => {
    expect(splitValues('a\\,b,c')).toEqual(['a\\,b', 'c']);
    expect(splitToken('http://x\\|y|1')).toEqual({ system: 'http://x|y', code: '1' });
  });
});
