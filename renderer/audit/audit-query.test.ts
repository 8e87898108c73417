import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EMPTY_FILTERS, criteriaOf, exportFileName, filterProblem, filtersFromUrl, filtersToUrl, searchOf, type AuditFilters } from './audit-query';

const f = (over: Partial<AuditFilters>): AuditFilters => ({ ...EMPTY_FILTERS, ...over });

// Local days become instants in the local zone: pin one with an offset.
let tz: string | undefined;
beforeEach(() => {
  tz = process.env.TZ;
  process.env.TZ = 'Europe/Berlin';
});
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('criteriaOf', () => {
  it('sends nothing for no filters', () => {
    expect(criteriaOf(EMPTY_FILTERS).toString()).toBe('');
  });

  it('finds a user or an app by the identifier Flint gives its agents', () => {
    expect([...criteriaOf(f({ who: ' rita ' }))]).toEqual([['agent:identifier', 'urn:flint:user|rita']]);
    expect([...criteriaOf(f({ who: 'my-app', whoKind: 'app' }))]).toEqual([['agent:identifier', 'urn:flint:client|my-app']]);
    // FHIR escapes in token values.
    expect([...criteriaOf(f({ who: 'a|b,c' }))]).toEqual([['agent:identifier', 'urn:flint:user|a\\|b\\,c']]);
  });

  it('maps patient, action, outcome and a range of local days', () => {
    const q = criteriaOf(f({ patient: 'Patient/p1', action: 'R', outcome: '4', from: '2026-03-01', to: '2026-03-02' }));
    expect([...q]).toEqual([
      ['patient', 'Patient/p1'],
      ['action', 'R'],
      ['outcome', '4'],
      ['date', 'ge2026-02-28T23:00:00.000Z'],
      ['date', 'le2026-03-02T22:59:59.999Z'],
    ]);
    expect(criteriaOf(f({ patient: 'p2' })).get('patient')).toBe('Patient/p2');
  });

  it('searches newest first, a page at a time', () => {
    expect(searchOf(f({ action: 'U' })).toString()).toBe('action=U&_sort=-date&_count=50');
    expect(searchOf(EMPTY_FILTERS, 'date').toString()).toBe('_sort=date&_count=50');
  });
});

describe('the address of a filtered view', () => {
  it('round-trips', () => {
    const filters = f({ who: 'flint-ui', whoKind: 'app', patient: 'p1', action: 'D', outcome: '8', from: '2026-01-01', to: '2026-01-31' });
    const url = filtersToUrl(filters);
    expect(url.toString()).toBe('app=flint-ui&patient=p1&action=D&outcome=8&from=2026-01-01&to=2026-01-31');
    expect(filtersFromUrl(url)).toEqual(filters);
    expect(filtersFromUrl(filtersToUrl(f({ who: 'ann' })))).toEqual(f({ who: 'ann' }));
  });

  it('drops what it does not understand', () => {
    expect(filtersFromUrl(new URLSearchParams('action=X&outcome=3&from=yesterday&to=2026-13-45&event=e1'))).toEqual(EMPTY_FILTERS);
  });
});

describe('filterProblem', () => {
  it('names the field at fault', () => {
    expect(filterProblem(f({ from: '2026-02-02', to: '2026-02-01' }))?.field).toBe('to');
    expect(filterProblem(f({ patient: 'not an id!' }))?.field).toBe('patient');
    expect(filterProblem(f({ patient: 'Patient/ok-1', from: '2026-02-01', to: '2026-02-01' }))).toBeUndefined();
  });
});

it('names the export after the day', () => {
  expect(exportFileName(new Date(2026, 2, 5, 10))).toBe('audit-events-2026-03-05.ndjson');
});
