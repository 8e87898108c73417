/**
 * number, quantity, composite, token :text/:of-type and reference :identifier, end to end:
 * real resources through the extractor into an SQLCipher index on disk, searched through
 * parseCriteria and IndexSearch. Expected sets are worked out by hand from the R4 rules
 * (docs/search-index.md, "Number and quantity prefixes").
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../fhir/definitions';
import { parseCriteria } from '../criteria';
import { createExtractor } from '../extract/extract';
import { openIndexDb, type IndexDb } from '../index/index-db';
import { IndexSearch } from '../index-search';

const defs = loadDefinitions();
const extractor = createExtractor(defs);
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

type Json = Record<string, unknown>;
type Find = (type: string, params: Record<string, string>) => string[];

/** An index on disk holding `resources`, and a search that fails on any unsupported parameter. */
function indexOf(resources: () => Json[]): { find: Find } {
  let dir: string;
  let index: IndexDb;
  let search: IndexSearch;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flint-params-'));
    index = openIndexDb({ file: join(dir, 'index.db'), key: randomBytes(32) });
    for (const r of resources()) index.replace(r.resourceType as string, r.id as string, '1.x', 1000, extractor.extract(r as unknown as Resource));
    search = new IndexSearch(index);
  });
  afterAll(() => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    find(type, params) {
      const parsed = parseCriteria(defs, type, new URLSearchParams(Object.entries(params)));
      expect(parsed.unsupported, 'unsupported parameters').toEqual([]);
      return search.matchIds(type, parsed.filters);
    },
  };
}

const risk = (id: string, p: number): Json => ({
  resourceType: 'RiskAssessment', id, status: 'final', subject: { reference: 'Patient/p' }, prediction: [{ probabilityDecimal: p }],
}); // prettier-ignore
const sequence = (id: string, start: number): Json => ({ resourceType: 'MolecularSequence', id, coordinateSystem: 0, variant: [{ start }] });
const observation = (id: string, code: [string, string], rest: Json): Json => ({
  resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: code[0], code: code[1] }] }, ...rest,
}); // prettier-ignore
const ucum = (value: number, code: string, extra: Json = {}): Json => ({ value, system: UCUM, code, unit: code, ...extra });

/**
 * Decimals as stored (implicit ranges): a 99.6 [99.55, 99.65), b 100.4, c 99.4, d 100.5
 * [100.45, 100.55), e 100 [99.5, 100.5), f 120, g 50. Searched with `<prefix>100`: eq/ne use
 * [99.5, 100.5), ap [89.5, 110.5), the others the exact 100.
 */
const DECIMALS: Record<string, number> = { a: 99.6, b: 100.4, c: 99.4, d: 100.5, e: 100, f: 120, g: 50 };
const AROUND_100: Record<string, string> = {
  eq: 'abe', ne: 'cdfg', gt: 'bdef', lt: 'aceg', ge: 'bdef', le: 'aceg', sa: 'bdf', eb: 'acg', ap: 'abcde',
}; // prettier-ignore
const letters = (s: string) => [...s];

describe('number', () => {
  const { find } = indexOf(() => [
    ...Object.entries(DECIMALS).map(([id, v]) => risk(id, v)),
    // Integer-typed elements are exact points.
    ...[2, 3, 4, 6, 50, 150].map((n) => sequence(`s${n}`, n)),
  ]);
  const risks = (value: string) => find('RiskAssessment', { probability: value });
  const starts = (value: string) => find('MolecularSequence', { 'variant-start': value });

  it.each(Object.entries(AROUND_100))('%s100 against decimal ranges', (prefix, expected) => {
    expect(risks(`${prefix}100`)).toEqual(letters(expected));
  });

  it('takes the implicit precision from the digits written', () => {
    expect(risks('100')).toEqual(['a', 'b', 'e']); // 99.6 and 100.4 lie in [99.5, 100.5)
    expect(risks('1.00e2')).toEqual(['a', 'b', 'e']); // three significant digits, as 100
    expect(risks('1e2')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']); // [50, 150): g's [49.5, 50.5) sticks out
    expect(risks('100.0')).toEqual([]); // [99.95, 100.05) contains no stored range
    expect(risks('99.6')).toEqual(['a']);
    expect(risks('100.5')).toEqual(['d']);
    expect(risks('99.6,100.4')).toEqual(['a', 'b']);
  });

  it('compares integer points exactly, at the edges too', () => {
    expect(starts('3')).toEqual(['s3']);
    expect(starts('3.0')).toEqual(['s3']);
    expect(starts('2.5')).toEqual([]); // non-zero decimals: no integer matches
    expect(starts('gt3')).toEqual(['s150', 's4', 's50', 's6']);
    expect(starts('ge3')).toEqual(['s150', 's3', 's4', 's50', 's6']);
    expect(starts('lt3')).toEqual(['s2']);
    expect(starts('le3')).toEqual(['s2', 's3']);
    expect(starts('sa3')).toEqual(['s150', 's4', 's50', 's6']);
    expect(starts('eb3')).toEqual(['s2']);
    expect(starts('ne3')).toEqual(['s150', 's2', 's4', 's50', 's6']);
    expect(starts('1e2')).toEqual(['s50']); // [50, 150): 150 is outside
    expect(starts('ne1e2')).toEqual(['s150', 's2', 's3', 's4', 's6']);
    expect(starts('ap5')).toEqual(['s4']); // [5 - 0.5 - 0.5, 5 + 0.5 + 0.5) = [4, 6)
  });

  it('rejects what is not a number', () => {
    expect(() => risks('1x')).toThrow(/number/);
    expect(() => risks('xx100')).toThrow(/prefix/);
    expect(() => risks('1.')).toThrow(/number/);
  });
});

describe('quantity', () => {
  const MASS: [string, string] = ['http://example.org/codes', 'mass'];
  const { find } = indexOf(() => [
    ...Object.entries(DECIMALS).map(([id, v]) => observation(`bp-${id}`, [LOINC, '8480-6'], { valueQuantity: ucum(v, 'mm[Hg]') })),
    observation('mg', MASS, { valueQuantity: ucum(5.4, 'mg', { unit: 'milligram' }) }),
    observation('g', MASS, { valueQuantity: ucum(0.0054, 'g') }),
    observation('mg-small', MASS, { valueQuantity: ucum(1.2, 'mg') }),
    observation('unit-only', MASS, { valueQuantity: { value: 5.4, unit: 'mg' } }),
    observation('other-system', MASS, { valueQuantity: { value: 5.4, system: 'http://example.org/units', code: 'mg' } }),
    observation('below-5', MASS, { valueQuantity: ucum(5, 'mg', { comparator: '<' }) }),
    observation('temp', ['http://example.org/codes', 'temp'], { valueQuantity: ucum(37, 'Cel') }),
    observation('height', ['http://example.org/codes', 'height'], { valueQuantity: ucum(66.89999999999999, '[in_i]') }),
  ]);
  const masses = (value: string) => find('Observation', { 'value-quantity': value, code: MASS.join('|') });
  const pressures = (value: string) => find('Observation', { 'value-quantity': value, code: `${LOINC}|8480-6` });
  const bp = (s: string) => letters(s).map((l) => `bp-${l}`);

  it.each(Object.entries(AROUND_100))('%s100 in mm[Hg]: converted, as written, and without a unit', (prefix, expected) => {
    expect(pressures(`${prefix}100|${UCUM}|mm[Hg]`)).toEqual(bp(expected));
    expect(pressures(`${prefix}100||mm[Hg]`)).toEqual(bp(expected));
    expect(pressures(`${prefix}100`)).toEqual(bp(expected));
  });

  it('converts UCUM units both ways: 5.4 mg finds 0.0054 g and 0.0054 g finds 5.4 mg', () => {
    expect(masses(`5.4|${UCUM}|mg`)).toEqual(['g', 'mg']);
    expect(masses(`0.0054|${UCUM}|g`)).toEqual(['g', 'mg']);
    // 1.2 mg's upper bound, converted, is 0.00125; 0.0012 g's is 0.0012499999999999998.
    expect(masses(`0.0012|${UCUM}|g`)).toEqual(['mg-small']);
    expect(masses(`5.4|${UCUM}|mL`)).toEqual([]); // a volume is not a mass
    expect(masses(`lt3|${UCUM}|mg`)).toEqual(['below-5', 'mg-small']); // `<5 mg` is open below
    expect(masses(`gt6|${UCUM}|mg`)).toEqual([]);
  });

  it('converts offset units (Cel to K)', () => {
    const temps = (value: string) => find('Observation', { 'value-quantity': value, code: 'http://example.org/codes|temp' });
    expect(temps(`gt309|${UCUM}|K`)).toEqual(['temp']); // 37 Cel is [309.65, 310.65) K
    expect(temps(`lt309|${UCUM}|K`)).toEqual([]);
    expect(temps(`gt36|${UCUM}|Cel`)).toEqual(['temp']);
    expect(temps(`gt38|${UCUM}|Cel`)).toEqual([]);
  });

  it('finds a value with more digits than a double holds (its range is a single point)', () => {
    const heights = (value: string) => find('Observation', { 'value-quantity': value, code: 'http://example.org/codes|height' });
    expect(heights(`66.89999999999999|${UCUM}|[in_i]`)).toEqual(['height']);
    expect(heights('66.89999999999999')).toEqual(['height']);
    expect(heights(`ne66.89999999999999|${UCUM}|[in_i]`)).toEqual([]);
    expect(heights(`66.9|${UCUM}|[in_i]`)).toEqual(['height']); // [66.85, 66.95) holds the point
  });

  it('matches units as written without a system, or outside UCUM', () => {
    expect(masses('5.4||mg')).toEqual(['mg', 'other-system', 'unit-only']); // code mg, code mg, unit mg
    expect(masses('5.4||milligram')).toEqual(['mg']); // the unit as written
    expect(masses('5.4')).toEqual(['mg', 'other-system', 'unit-only']); // any unit, the value as written
    expect(masses('5.4|http://example.org/units|mg')).toEqual(['other-system']);
    expect(masses(`5.4|${UCUM}|`)).toEqual(['mg']); // any UCUM code, the value as written
  });

  it('rejects malformed values', () => {
    expect(() => masses('5.4|mg')).toThrow(/system/);
    expect(() => masses(`|${UCUM}|mg`)).toThrow(/number/);
  });
});

describe('composite', () => {
  const bpPanel = (id: string, systolic: number, diastolic: number): Json =>
    observation(id, [LOINC, '85354-9'], {
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: ucum(systolic, 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: ucum(diastolic, 'mm[Hg]') },
      ],
    });
  const concept = (system: string, code: string) => ({ coding: [{ system, code }] });
  const { find } = indexOf(() => [
    bpPanel('bp-high', 120, 80),
    bpPanel('bp-low', 90, 60),
    observation('k-high', [LOINC, '2823-3'], { valueQuantity: ucum(5.9, 'mmol/L') }),
    observation('k-normal', [LOINC, '2823-3'], { valueQuantity: ucum(4.8, 'mmol/L') }),
    observation('smoking', ['http://example.org', 'smoking'], {
      valueCodeableConcept: concept('http://snomed.info/sct', '8517006'),
      component: [{ code: concept('http://example.org', 'packs'), valueCodeableConcept: concept('http://snomed.info/sct', '266919005') }],
    }),
    observation('onset', ['http://example.org', 'onset'], { valueDateTime: '2024-03-15' }),
    observation('note', ['http://example.org', 'note'], { valueString: 'Cost $5, paid' }),
    {
      resourceType: 'MolecularSequence', id: 'seq', coordinateSystem: 0,
      referenceSeq: { chromosome: concept('http://terminology.hl7.org/CodeSystem/chromosome-human', '1') },
      variant: [{ start: 100, end: 200 }, { start: 300, end: 400 }],
    }, // prettier-ignore
  ]);
  const obs = (param: string, value: string) => find('Observation', { [param]: value });

  it('matches components only within one element', () => {
    const q = (v: string) => obs('component-code-value-quantity', v);
    expect(q(`${LOINC}|8480-6$120|${UCUM}|mm[Hg]`)).toEqual(['bp-high']);
    // 80 is bp-high's diastolic value, not its systolic one.
    expect(q(`${LOINC}|8480-6$80|${UCUM}|mm[Hg]`)).toEqual([]);
    expect(q(`${LOINC}|8462-4$120`)).toEqual([]);
    expect(q(`${LOINC}|8462-4$80`)).toEqual(['bp-high']);
    expect(q(`${LOINC}|8480-6$gt100`)).toEqual(['bp-high']);
    expect(q(`${LOINC}|8480-6$lt100`)).toEqual(['bp-low']);
    expect(q(`${LOINC}|8462-4$le60||mm[Hg]`)).toEqual(['bp-low']);
    expect(q(`${LOINC}|8480-6$120,${LOINC}|8462-4$60`)).toEqual(['bp-high', 'bp-low']);
    expect(q(`8480-6$ge90`)).toEqual(['bp-high', 'bp-low']);
  });

  it('reads each component by its own type: quantities convert, codes pair with values', () => {
    const q = (v: string) => obs('code-value-quantity', v);
    expect(q(`${LOINC}|2823-3$gt5.4|${UCUM}|mmol/L`)).toEqual(['k-high']);
    expect(q(`${LOINC}|2823-3$le5.4|${UCUM}|mmol/L`)).toEqual(['k-normal']);
    expect(q(`${LOINC}|2823-3$gt5500|${UCUM}|umol/L`)).toEqual(['k-high']); // 5.9 mmol/L = 5900 umol/L
    expect(q(`${LOINC}|85354-9$gt0`)).toEqual([]); // the panel itself has no value
    const combo = (v: string) => obs('combo-code-value-concept', v);
    expect(combo('http://example.org|smoking$http://snomed.info/sct|8517006')).toEqual(['smoking']);
    expect(combo('http://example.org|packs$http://snomed.info/sct|266919005')).toEqual(['smoking']);
    expect(combo('http://example.org|smoking$http://snomed.info/sct|266919005')).toEqual([]); // across elements
    expect(obs('code-value-date', 'http://example.org|onset$ge2024-03')).toEqual(['onset']);
    expect(obs('code-value-date', 'http://example.org|onset$lt2024-03')).toEqual([]);
    expect(obs('code-value-string', 'http://example.org|note$cost \\$5')).toEqual(['note']); // an escaped $
  });

  it('handles three components', () => {
    const q = (v: string) => find('MolecularSequence', { 'chromosome-variant-coordinate': v });
    expect(q('1$ge300$le400')).toEqual(['seq']);
    expect(q('1$100$200')).toEqual(['seq']);
    expect(q('1$ge300$le200')).toEqual([]); // start of one variant, end of the other
    expect(q('2$100$200')).toEqual([]);
  });

  it('rejects a value with the wrong number of components', () => {
    expect(() => obs('component-code-value-quantity', `${LOINC}|8480-6`)).toThrow(/\$/);
    expect(() => obs('component-code-value-quantity', `${LOINC}|8480-6$1$2`)).toThrow(/\$/);
  });
});

describe('token :text and :of-type, reference :identifier', () => {
  const SNOMED = 'http://snomed.info/sct';
  const { find } = indexOf(() => [
    { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' },
      code: { coding: [{ system: SNOMED, code: '25064002', display: 'Headache disorder' }], text: 'Bad headache' } },
    { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/p1' },
      code: { coding: [{ system: SNOMED, code: '386661006', display: 'Fever' }] } },
    { resourceType: 'Patient', id: 'p1',
      identifier: [{ type: { coding: [{ system: V2, code: 'MR' }], text: 'Medical record number' }, system: 'http://hospital/mrn', value: '446053' }] },
    { resourceType: 'Patient', id: 'p2', identifier: [{ system: 'http://hospital/mrn', value: '446053' }] },
    { resourceType: 'Patient', id: 'p3', identifier: [{ type: { coding: [{ system: V2, code: 'SS' }] }, system: 'http://ssa', value: '446053' }] },
    observation('o1', [LOINC, 'x'], { subject: { identifier: { system: 'http://sys', value: '123' } } }),
    observation('o2', [LOINC, 'x'], { subject: { reference: 'Patient/p1', identifier: { system: 'http://other', value: '123' } } }),
    observation('o3', [LOINC, 'x'], { subject: { reference: 'Patient/p2' } }),
  ]); // prettier-ignore

  it(':text matches the start of a display or text, case- and accent-insensitively', () => {
    const q = (v: string) => find('Condition', { 'code:text': v });
    expect(q('headache')).toEqual(['c1']); // Coding.display
    expect(q('bad')).toEqual(['c1']); // CodeableConcept.text
    expect(q('HEADÁCHE  dis')).toEqual(['c1']);
    expect(q('disorder')).toEqual([]); // not at the start
    expect(q('fev,bad')).toEqual(['c1', 'c2']);
    expect(q('25064002')).toEqual([]); // codes are not text
    expect(find('Patient', { 'identifier:text': 'medical' })).toEqual(['p1']); // Identifier.type.text
  });

  it(':of-type matches Identifier.type and value, all three parts required', () => {
    const q = (v: string) => find('Patient', { 'identifier:of-type': v });
    expect(q(`${V2}|MR|446053`)).toEqual(['p1']);
    expect(q(`${V2}|SS|446053`)).toEqual(['p3']);
    expect(q(`${V2}|MR|999`)).toEqual([]);
    expect(q(`http://other|MR|446053`)).toEqual([]);
    expect(find('Patient', { identifier: '446053' })).toEqual(['p1', 'p2', 'p3']);
    expect(() => q(`${V2}|MR`)).toThrow(/of-type/);
    expect(() => q(`|MR|446053`)).toThrow(/of-type/);
  });

  it(':identifier searches Reference.identifier as a token; the other reference forms still work', () => {
    const q = (v: string) => find('Observation', { 'subject:identifier': v });
    expect(q('http://sys|123')).toEqual(['o1']);
    expect(q('123')).toEqual(['o1', 'o2']);
    expect(q('|123')).toEqual([]);
    expect(q('http://other|')).toEqual(['o2']);
    expect(q('http://sys|999')).toEqual([]);
    expect(find('Observation', { subject: 'Patient/p1' })).toEqual(['o2']);
    expect(find('Observation', { 'subject:Patient': 'p2' })).toEqual(['o3']);
  });

  it('reports what stays unsupported', () => {
    const unsupported = (key: string, type = 'Observation') => parseCriteria(defs, type, new URLSearchParams([[key, 'x']])).unsupported;
    expect(unsupported('code:in')).toEqual(['code:in']);
    expect(unsupported('code:below')).toEqual(['code:below']);
    expect(unsupported('value-quantity:exact')).toEqual(['value-quantity:exact']);
    expect(unsupported('component-code-value-quantity:text')).toEqual(['component-code-value-quantity:text']);
    expect(unsupported('subject:identifier.name')).toEqual(['subject:identifier.name']); // R4: no chains on :identifier
    expect(unsupported('value-quantity:missing')).toEqual([]);
  });
});
