import { describe, expect, it } from 'vitest';
import { dateRange } from './fhir-dates';

describe('dateRange', () => {
  it('gives the period of partial dates', () => {
    expect(dateRange('2020', 'x')).toEqual({ start: Date.UTC(2020, 0, 1), end: Date.UTC(2021, 0, 1) });
    expect(dateRange('2020-02', 'x')).toEqual({ start: Date.UTC(2020, 1, 1), end: Date.UTC(2020, 2, 1) });
    expect(dateRange('2020-12-31', 'x')).toEqual({ start: Date.UTC(2020, 11, 31), end: Date.UTC(2021, 0, 1) });
  });
  it('applies time zones and sub-second precision', () => {
    expect(dateRange('2020-01-01T10:00:00+02:00', 'x').start).toBe(Date.UTC(2020, 0, 1, 8));
    expect(dateRange('2020-01-01T10:00:00.5Z', 'x')).toEqual({ start: Date.UTC(2020, 0, 1, 10, 0, 0, 500), end: Date.UTC(2020, 0, 1, 10, 0, 0, 501) });
  });
  it('rejects what is not a FHIR date', () => {
    expect(() => dateRange('yesterday', '_since')).toThrow(/_since/);
    expect(() => dateRange('2020-1-1', '_since')).toThrow();
  });
  it('rejects dates and times that do not exist (seen by the Bulk Data test kit)', () => {
    for (const v of ['0000-60-01T30:70:80+05:00', '2020-13-01', '2020-00-10', '2020-02-30', '2021-02-29', '2020-01-01T24:00:00Z', '2020-01-01T10:60:00Z', '2020-01-01T10:00:60Z', '2020-01-01T10:00:00+15:00']) {
      expect(() => dateRange(v, '_since'), v).toThrow(/_since/);
    }
    expect(dateRange('2020-02-29', 'x').start).toBe(Date.UTC(2020, 1, 29)); // a leap day exists
  });
});
