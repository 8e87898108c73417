/** The extractor end to end on hand-made resources, one concern per test. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../fhir/definitions';
import { createExtractor, type Extractor } from './extract';
import { OPEN_HIGH, OPEN_LOW } from './rows';
import { ucumAvailable } from './ucum';

let x: Extractor;
beforeAll(() => {
  x = createExtractor(loadDefinitions());
});

const utc = (s: string) => Date.parse(s);

describe('createExtractor', () => {
  it('indexes _id, _lastUpdated, _tag, _profile, _security and _source from meta', () => {
    const rows = x.extract({
      resourceType: 'Patient',
      id: 'p1',
      meta: {
        lastUpdated: '2024-05-01T10:00:00.123Z',
        tag: [{ system: 'urn:t', code: 'a', display: 'Tag A' }],
        security: [{ system: 'urn:s', code: 'R' }],
        profile: ['http://example.org/P'],
        source: 'urn:src#1',
      },
    });
    expect(rows.tokens).toContainEqual({ param: '_id', system: null, code: 'p1', text: null });
    expect(rows.tokens).toContainEqual({ param: '_tag', system: 'urn:t', code: 'a', text: 'tag a' });
    expect(rows.tokens).toContainEqual({ param: '_security', system: 'urn:s', code: 'R', text: null });
    expect(rows.dates).toContainEqual({ param: '_lastUpdated', start: utc('2024-05-01T10:00:00.123Z'), end: utc('2024-05-01T10:00:00.124Z') });
    expect(rows.uris).toEqual(expect.arrayContaining([{ param: '_profile', uri: 'http://example.org/P' }, { param: '_source', uri: 'urn:src#1' }]));
    expect([...rows.present]).toEqual(expect.arrayContaining(['_id', '_lastUpdated', '_tag', '_security', '_profile', '_source']));
  });

  it('normalizes strings (accents, case, whitespace) and keeps the exact form', () => {
    const rows = x.extract({
      resourceType: 'Patient',
      name: [{ family: 'Müller-Lüdenscheidt', given: ['José  María'], prefix: ['Dr.'] }],
      address: [{ line: ['1 Rue de l’Église'], city: 'Zürich', postalCode: '8000' }],
    });
    const names = rows.strings.filter((r) => r.param === 'name');
    expect(names).toEqual(
      expect.arrayContaining([
        { param: 'name', value: 'muller-ludenscheidt', exact: 'Müller-Lüdenscheidt' },
        { param: 'name', value: 'jose maria', exact: 'José  María' },
        { param: 'name', value: 'dr.', exact: 'Dr.' },
      ]),
    );
    expect(rows.strings).toContainEqual({ param: 'family', value: 'muller-ludenscheidt', exact: 'Müller-Lüdenscheidt' });
    expect(rows.strings).toContainEqual({ param: 'address-city', value: 'zurich', exact: 'Zürich' });
    expect(rows.strings.filter((r) => r.param === 'address').map((r) => r.value)).toEqual(['1 rue de l’eglise', 'zurich', '8000']);
  });

  it('makes token rows of every shape', () => {
    const rows = x.extract({
      resourceType: 'Patient',
      active: true,
      gender: 'female',
      identifier: [
        { system: 'urn:mrn', value: '123', type: { text: 'Medical Record', coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } },
        { value: 'no-system' },
      ],
      telecom: [{ system: 'phone', value: '+41 44 123' }, { system: 'email', value: 'a@b.ch' }],
      maritalStatus: { coding: [{ system: 'urn:ms', code: 'M', display: 'Married' }], text: 'Verheiratet' },
      deceasedBoolean: false,
    });
    const t = (param: string) => rows.tokens.filter((r) => r.param === param);
    expect(t('active')).toEqual([{ param: 'active', system: null, code: 'true', text: null }]);
    expect(t('gender')).toEqual([{ param: 'gender', system: null, code: 'female', text: null }]);
    expect(t('identifier')).toEqual([
      {
        param: 'identifier',
        system: 'urn:mrn',
        code: '123',
        text: 'medical record',
        ofTypeSystem: 'http://terminology.hl7.org/CodeSystem/v2-0203',
        ofTypeCode: 'MR',
      },
      { param: 'identifier', system: null, code: 'no-system', text: null },
    ]);
    expect(t('phone')).toEqual([{ param: 'phone', system: null, code: '+41 44 123', text: null }]);
    expect(t('email')).toEqual([{ param: 'email', system: null, code: 'a@b.ch', text: null }]);
    expect(t('telecom')).toHaveLength(2);
    expect(t('deceased')).toEqual([{ param: 'deceased', system: null, code: 'false', text: null }]);
    const obs = x.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic BP' }], text: 'Blutdruck' },
    });
    expect(obs.tokens.filter((r) => r.param === 'code')).toEqual([
      { param: 'code', system: 'http://loinc.org', code: '8480-6', text: 'systolic bp' },
      { param: 'code', system: null, code: null, text: 'blutdruck' },
    ]);
  });

  it('parses references of every shape', () => {
    const rows = x.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/123/_history/2' },
      encounter: { reference: 'http://other.org/fhir/Encounter/e9' },
      performer: [
        { reference: '#prac' },
        { reference: 'urn:uuid:0b7a0f6e-2b0e-4b9f-9e0d-4a3a3f0f6a11', type: 'Practitioner' },
        { identifier: { system: 'urn:npi', value: '42' }, display: 'Dr X' },
        { display: 'display only' },
      ],
      basedOn: [{ reference: 'ServiceRequest?identifier=urn:x|1' }],
    });
    const r = (param: string) => rows.references.filter((x) => x.param === param);
    expect(r('subject')).toEqual([{ param: 'subject', targetType: 'Patient', targetId: '123', version: '2', url: null }]);
    // patient = subject.where(resolve() is Patient), answered from the reference text.
    expect(r('patient')).toEqual([{ param: 'patient', targetType: 'Patient', targetId: '123', version: '2', url: null }]);
    expect(r('encounter')).toEqual([
      { param: 'encounter', targetType: 'Encounter', targetId: 'e9', version: null, url: 'http://other.org/fhir/Encounter/e9' },
    ]);
    expect(r('performer')).toEqual([
      { param: 'performer', targetType: null, targetId: null, url: null, contained: 'prac' },
      { param: 'performer', targetType: 'Practitioner', targetId: null, url: 'urn:uuid:0b7a0f6e-2b0e-4b9f-9e0d-4a3a3f0f6a11' },
      { param: 'performer', targetType: null, targetId: null, url: null, identifierSystem: 'urn:npi', identifierValue: '42' },
    ]);
    expect(r('based-on')).toEqual([{ param: 'based-on', targetType: null, targetId: null, url: 'ServiceRequest?identifier=urn:x|1' }]);
    expect(rows.present.has('performer')).toBe(true);
    const devices = x.extract({ resourceType: 'Observation', subject: { reference: 'Device/d1' } });
    expect(devices.references.filter((x) => x.param === 'patient')).toEqual([]);
  });

  it('splits canonical references into url and version', () => {
    const rows = x.extract({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [{ linkId: '1', type: 'choice', answerValueSet: 'http://hl7.org/fhir/ValueSet/yesnodontknow|4.0.1' }],
      derivedFrom: ['http://example.org/fhir/Questionnaire/base'],
    });
    expect(rows.references.filter((r) => r.param === 'definition' || r.param === 'derived-from')).toEqual([]);
    const plan = x.extract({ resourceType: 'PlanDefinition', status: 'active', library: ['http://example.org/Library/lib|1.2'] });
    expect(plan.references.filter((r) => r.param === 'depends-on')).toEqual([
      { param: 'depends-on', targetType: 'Library', targetId: 'lib', url: 'http://example.org/Library/lib', version: '1.2' },
    ]);
    // A bare id (R4 example Library-library-fhir-helpers): searchable the way R4 reads `predecessor=<id>`.
    const lib = x.extract({ resourceType: 'Library', status: 'active', type: {}, relatedArtifact: [{ type: 'predecessor', resource: 'lib-v1' }] });
    expect(lib.references.filter((r) => r.param === 'predecessor')).toEqual([
      { param: 'predecessor', targetType: null, targetId: 'lib-v1', url: 'lib-v1', version: null },
    ]);
  });

  it('turns dates, partial dates, zones, Periods and Timings into ranges', () => {
    const rows = x.extract({ resourceType: 'Patient', birthDate: '1980-02' });
    expect(rows.dates.filter((r) => r.param === 'birthdate')).toEqual([
      { param: 'birthdate', start: utc('1980-02-01T00:00:00Z'), end: utc('1980-03-01T00:00:00Z') },
    ]);
    const zoned = x.extract({ resourceType: 'Observation', effectiveDateTime: '2020-01-01T10:00:00+02:00' });
    expect(zoned.dates.find((r) => r.param === 'date')).toEqual({ param: 'date', start: utc('2020-01-01T08:00:00Z'), end: utc('2020-01-01T08:00:01Z') });
    // No zone: indexed as UTC (documented choice, same as the query side).
    const local = x.extract({ resourceType: 'Observation', effectiveDateTime: '2020-01-01T10:00' });
    expect(local.dates.find((r) => r.param === 'date')).toEqual({ param: 'date', start: utc('2020-01-01T10:00:00Z'), end: utc('2020-01-01T10:01:00Z') });
    const open = x.extract({ resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { start: '2021' } });
    expect(open.dates.find((r) => r.param === 'date')).toEqual({ param: 'date', start: utc('2021-01-01T00:00:00Z'), end: OPEN_HIGH });
    const ended = x.extract({ resourceType: 'Encounter', period: { end: '2021-06-30' } });
    expect(ended.dates.find((r) => r.param === 'date')).toEqual({ param: 'date', start: OPEN_LOW, end: utc('2021-07-01T00:00:00Z') });
    const timing = x.extract({
      resourceType: 'ServiceRequest',
      occurrenceTiming: { event: ['2022-03-05', '2022-01-10T08:00:00Z'], repeat: { boundsPeriod: { end: '2022-04' } } },
    });
    expect(timing.dates.find((r) => r.param === 'occurrence')).toEqual({
      param: 'occurrence',
      start: utc('2022-01-10T08:00:00Z'),
      end: utc('2022-05-01T00:00:00Z'),
    });
    const bad = x.extract({ resourceType: 'Patient', birthDate: 'last spring' });
    expect(bad.dates.filter((r) => r.param === 'birthdate')).toEqual([]);
    expect(bad.present.has('birthdate')).toBe(true);
  });

  it('gives numbers and quantities their implicit precision range', () => {
    const risk = x.extract({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/1' }, prediction: [{ probabilityDecimal: 0.02 }] });
    const p = risk.numbers.find((r) => r.param === 'probability');
    expect(p?.low).toBeCloseTo(0.015, 12);
    expect(p?.high).toBeCloseTo(0.025, 12);
    const obs = x.extract({
      resourceType: 'Observation',
      valueQuantity: { value: 1.5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
    });
    const q = obs.quantities.find((r) => r.param === 'value-quantity');
    expect(q).toMatchObject({ system: 'http://unitsofmeasure.org', code: 'mg', unit: 'mg' });
    expect(q?.low).toBeCloseTo(1.45, 12);
    expect(q?.high).toBeCloseTo(1.55, 12);
    if (ucumAvailable()) {
      expect(q?.canonicalCode).toBe('g');
      expect(q?.canonicalLow).toBeCloseTo(0.00145, 12);
      expect(q?.canonicalHigh).toBeCloseTo(0.00155, 12);
    }
    const lt = x.extract({ resourceType: 'Observation', valueQuantity: { value: 5, comparator: '<', code: 'x', system: 'urn:u' } });
    expect(lt.quantities.find((r) => r.param === 'value-quantity')).toMatchObject({ low: OPEN_LOW, high: 5.5, canonicalCode: null });
    const ranged = x.extract({ resourceType: 'Condition', onsetRange: { low: { value: 10, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' } } });
    expect(ranged.quantities.find((r) => r.param === 'onset-age')).toMatchObject({ code: 'a', low: 9.5, high: OPEN_HIGH });
  });

  it('makes one composite row per element, with every component', () => {
    const rows = x.extract({
      resourceType: 'Observation',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    });
    const comp = rows.composites.filter((r) => r.param === 'component-code-value-quantity');
    expect(comp).toHaveLength(2);
    expect(comp[0]?.components.map((c) => [c.param, c.type, c.rows.length])).toEqual([
      ['component-code', 'token', 1],
      ['component-value-quantity', 'quantity', 1],
    ]);
    expect(comp[1]?.components[1]?.rows[0]).toMatchObject({ low: 79.5, high: 80.5 });
    // code-value-quantity needs Observation.value, which this resource lacks.
    expect(rows.composites.some((r) => r.param === 'code-value-quantity')).toBe(false);
    expect(rows.present.has('code-value-quantity')).toBe(false);
  });

  it('never throws on odd input and leaves the resource untouched', () => {
    for (const odd of [null, 1, 'x', [], {}, { resourceType: 'Nope' }, { resourceType: 'Patient', name: 'not-an-array', birthDate: 7, meta: 'x' }]) {
      expect(() => x.extract(odd)).not.toThrow();
    }
    const r = { resourceType: 'Observation', id: 'o', valueQuantity: { value: 1, comparator: '<' }, component: [{ valueQuantity: { value: 2 } }] };
    const before = JSON.stringify(r);
    x.extract(r);
    expect(JSON.stringify(r)).toBe(before);
  });
});
