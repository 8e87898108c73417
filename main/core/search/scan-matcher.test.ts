import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../fhir/definitions';
import type { ResourceStore } from '../store/resource-store';
import { parseCriteria, splitToken, splitValues } from './criteria';
import { ScanMatcher } from './scan-matcher';

const defs = loadDefinitions();
// matches() needs no store; the scan itself is covered through the HTTP tests.
const matcher = new ScanMatcher(undefined as unknown as ResourceStore);
const test = (type: string, query: string, r: object) =>
  matcher.matches(r as Resource, parseCriteria(defs, type, new URLSearchParams(query)).filters);

const patient = {
  resourceType: 'Patient',
  id: 'p1',
  identifier: [{ system: 'http://mrn', value: 'A-1' }],
  name: [{ family: 'Müller', given: ['Zoë'] }],
  gender: 'female',
  active: true,
  telecom: [{ system: 'phone', value: '555-1234' }],
  managingOrganization: { reference: 'Organization/o1' },
};

describe('scan matcher semantics', () => {
  it('matches tokens: code, system|code, |code, system|', () => {
    expect(test('Patient', 'identifier=A-1', patient)).toBe(true);
    expect(test('Patient', 'identifier=http://mrn|A-1', patient)).toBe(true);
    expect(test('Patient', 'identifier=http://other|A-1', patient)).toBe(false);
    expect(test('Patient', 'identifier=|A-1', patient)).toBe(false);
    expect(test('Patient', 'identifier=http://mrn|', patient)).toBe(true);
    expect(test('Patient', 'gender=female', patient)).toBe(true);
    expect(test('Patient', 'gender:not=female', patient)).toBe(false);
    expect(test('Patient', 'active=true', patient)).toBe(true);
    expect(test('Patient', '_id=p1', patient)).toBe(true);
  });

  it('matches strings case- and accent-insensitively by prefix; :exact and :contains', () => {
    expect(test('Patient', 'family=muller', patient)).toBe(true);
    expect(test('Patient', 'name=zo', patient)).toBe(true);
    expect(test('Patient', 'family:exact=Müller', patient)).toBe(true);
    expect(test('Patient', 'family:exact=muller', patient)).toBe(false);
    expect(test('Patient', 'family:contains=ll', patient)).toBe(true);
    expect(test('Patient', 'family=ller', patient)).toBe(false);
  });

  it('matches references by id, Type/id and absolute URL', () => {
    expect(test('Patient', 'organization=o1', patient)).toBe(true);
    expect(test('Patient', 'organization=Organization/o1', patient)).toBe(true);
    expect(test('Patient', 'organization=Organization/o2', patient)).toBe(false);
  });

  it('ORs comma-separated values and ANDs parameters', () => {
    expect(test('Patient', 'gender=male,female', patient)).toBe(true);
    expect(test('Patient', 'gender=female&family=smith', patient)).toBe(false);
  });

  it('reports what it cannot evaluate', () => {
    const p = parseCriteria(defs, 'Patient', new URLSearchParams('birthdate=ge2000&nonsense=1&family:above=x&_count=5'));
    expect(p.unsupported.sort()).toEqual(['birthdate', 'family:above', 'nonsense']);
  });

  it('splits escaped values', () => {
    expect(splitValues('a\\,b,c')).toEqual(['a\\,b', 'c']);
    expect(splitToken('http://x\\|y|1')).toEqual({ system: 'http://x|y', code: '1' });
  });
});
