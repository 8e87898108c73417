import { describe, expect, it } from 'vitest';
import { encodeQuery, fromQuery, modifiersFor, parseRawQuery, sortParam, sortState, toQuery, type ParamInfo } from './criteria';

const PARAMS: ParamInfo[] = [
  { name: 'code', type: 'token' },
  { name: 'date', type: 'date' },
  { name: 'value-quantity', type: 'quantity' },
  { name: 'subject', type: 'reference' },
  { name: 'identifier', type: 'token' },
  { name: 'name', type: 'string' },
];

describe('search criteria <-> query string', () => {
  it('builds a query from criteria rows, with prefixes and modifiers, sort and count', () => {
    const pairs = toQuery(
      {
        criteria: [
          { param: 'code', modifier: '', prefix: '', value: 'http://loinc.org|8867-4' },
          { param: 'date', modifier: '', prefix: 'ge', value: '2024' },
          { param: 'name', modifier: 'contains', prefix: '', value: 'ann' },
          { param: 'subject', modifier: 'missing', prefix: 'ge', value: 'false' },
          { param: 'value-quantity', modifier: '', prefix: '', value: '5' },
          { param: 'code', modifier: '', prefix: '', value: '  ' },
          { param: '', modifier: '', prefix: '', value: 'x' },
        ],
        sort: '-date',
        count: 50,
        extras: [['_include', 'Observation:subject']],
      },
      PARAMS,
    );
    expect(pairs).toEqual([
      ['code', 'http://loinc.org|8867-4'],
      ['date', 'ge2024'],
      ['name:contains', 'ann'],
      ['subject:missing', 'false'],
      ['value-quantity', '5'],
      ['_sort', '-date'],
      ['_count', '50'],
      ['_include', 'Observation:subject'],
    ]);
    expect(encodeQuery(pairs)).toBe('code=http://loinc.org|8867-4&date=ge2024&name:contains=ann&subject:missing=false&value-quantity=5&_sort=-date&_count=50&_include=Observation:subject');
  });

  it('reads a query back into the same rows', () => {
    const q = 'code=http://loinc.org|8867-4&date=ge2024-01-01&date=lt2025&subject:Patient=123&name:exact=Ann&value-quantity=ap5.4|http://unitsofmeasure.org|mg&_sort=-date&_count=20&_summary=true';
    const s = fromQuery('Observation', q, PARAMS);
    expect(s.criteria).toEqual([
      { param: 'code', modifier: '', prefix: '', value: 'http://loinc.org|8867-4' },
      { param: 'date', modifier: '', prefix: 'ge', value: '2024-01-01' },
      { param: 'date', modifier: '', prefix: 'lt', value: '2025' },
      { param: 'subject', modifier: 'Patient', prefix: '', value: '123' },
      { param: 'name', modifier: 'exact', prefix: '', value: 'Ann' },
      { param: 'value-quantity', modifier: '', prefix: 'ap', value: '5.4|http://unitsofmeasure.org|mg' },
    ]);
    expect(s.sort).toBe('-date');
    expect(s.count).toBe(20);
    expect(s.extras).toEqual([['_summary', 'true']]);
    // And back again: the same query.
    expect(encodeQuery(toQuery(s, PARAMS))).toBe(q);
  });

  it('does not take a token value for a prefix', () => {
    expect(fromQuery('Observation', 'code=ge123', PARAMS).criteria[0]).toMatchObject({ prefix: '', value: 'ge123' });
    expect(fromQuery('Observation', 'date=2024', PARAMS).criteria[0]).toMatchObject({ prefix: '', value: '2024' });
  });

  it('offers modifiers by parameter type', () => {
    const values = (p: ParamInfo, t?: string[]) => modifiersFor(p, t).map((m) => m.value);
    expect(values({ name: 'name', type: 'string' })).toEqual(['', 'exact', 'contains', 'missing']);
    expect(values({ name: 'code', type: 'token' })).toEqual(['', 'not', 'text', 'missing']);
    expect(values({ name: 'identifier', type: 'token' })).toContain('of-type');
    expect(values({ name: 'subject', type: 'reference' }, ['Patient', 'Group'])).toEqual(['', 'missing', 'identifier', 'Patient', 'Group']);
    expect(values({ name: 'date', type: 'date' })).toEqual(['', 'missing']);
  });

  it('reads the expert query box', () => {
    expect(parseRawQuery('Observation?code=http://loinc.org|8867-4&date=ge2024')).toEqual({ type: 'Observation', query: 'code=http://loinc.org|8867-4&date=ge2024' });
    expect(parseRawQuery('/fhir/Patient?name=ann')).toEqual({ type: 'Patient', query: 'name=ann' });
    expect(parseRawQuery('http://127.0.0.1:8787/fhir/Encounter')).toEqual({ type: 'Encounter', query: '' });
    expect(parseRawQuery('code=1')).toHaveProperty('error');
    expect(parseRawQuery('')).toHaveProperty('error');
  });

  it('turns _sort into the table sort state and back', () => {
    expect(sortState('-date,_id')).toEqual({ key: 'date', direction: 'desc' });
    expect(sortState('family')).toEqual({ key: 'family', direction: 'asc' });
    expect(sortState('')).toBeUndefined();
    expect(sortParam({ key: 'date', direction: 'desc' })).toBe('-date');
  });
});
