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
});
