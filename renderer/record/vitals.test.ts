import type { Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { alignSeries, extractVitals, tableRows, timeOf, weightInKg } from './vitals';

const LOINC = 'http://loinc.org';
let n = 0;
const obs = (code: string, date: string, value?: number, unit = '', extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  id: `o${++n}`,
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code }] },
  effectiveDateTime: date,
  ...(value === undefined ? {} : { valueQuantity: { value, unit, code: unit, system: 'http://unitsofmeasure.org' } }),
  ...extra,
});
const bp = (date: string, sys: number | undefined, dia: number | undefined, code = '85354-6'): Observation =>
  obs(code, date, undefined, '', {
    component: [
      ...(sys === undefined ? [] : [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mmHg' } }]),
      ...(dia === undefined ? [] : [{ code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mmHg' } }]),
    ],
  });

describe('extractVitals', () => {
  it('sorts each series by time and takes blood pressure from the panel components', () => {
    const v = extractVitals([
      obs('8867-4', '2024-03-02T10:00:00Z', 80, '/min'),
      obs('8867-4', '2024-03-01T10:00:00Z', 72, '/min'),
      bp('2024-03-01T10:00:00Z', 120, 80),
      bp('2024-03-02T10:00:00Z', 135, 88, '55284-4'),
      obs('29463-7', '2024-03-01', 70.5, 'kg'),
      obs('39156-5', '2024-03-01', 23.1, 'kg/m2'),
    ]);
    expect(v.heartRate.map((p) => p.value)).toEqual([72, 80]);
    expect(v.systolic.map((p) => p.value)).toEqual([120, 135]);
    expect(v.diastolic.map((p) => p.value)).toEqual([80, 88]);
    expect(v.weight.map((p) => p.value)).toEqual([70.5]);
    expect(v.bmi.map((p) => p.value)).toEqual([23.1]);
    expect(v.heartRate[0]!.date).toBe('2024-03-01T10:00:00Z');
  });

  it('counts a lone systolic or diastolic reading, and a panel with one component', () => {
    const v = extractVitals([obs('8480-6', '2024-01-01T08:00:00Z', 110, 'mm[Hg]'), obs('8462-4', '2024-01-01T08:00:00Z', 70, 'mm[Hg]'), bp('2024-01-02T08:00:00Z', 118, undefined)]);
    expect(v.systolic.map((p) => p.value)).toEqual([110, 118]);
    expect(v.diastolic.map((p) => p.value)).toEqual([70]);
  });

  it('leaves out errors, cancelled readings, other codes and systems, and missing values or dates', () => {
    const v = extractVitals([
      obs('8867-4', '2024-01-01T08:00:00Z', 60, '/min', { status: 'entered-in-error' }),
      obs('8867-4', '2024-01-01T08:00:00Z', 61, '/min', { status: 'cancelled' }),
      obs('8867-4', '2024-01-01T08:00:00Z'),
      obs('8310-5', '2024-01-01T08:00:00Z', 37, 'Cel'),
      { ...obs('8867-4', '2024-01-01T08:00:00Z', 62, '/min'), code: { coding: [{ system: 'http://snomed.info/sct', code: '8867-4' }] } },
      { ...obs('8867-4', '', 63, '/min'), effectiveDateTime: undefined },
      obs('8867-4', '2024-01-01T08:00:00Z', 64, '/min', { status: 'amended' }),
    ]);
    expect(v.heartRate.map((p) => p.value)).toEqual([64]);
  });

  it('takes the date from a period or instant, and a code without a system', () => {
    const v = extractVitals([
      { ...obs('8867-4', '', 70, '/min'), effectiveDateTime: undefined, effectivePeriod: { start: '2024-02-01T09:00:00Z' } },
      { ...obs('8867-4', '', 71, '/min'), effectiveDateTime: undefined, effectiveInstant: '2024-02-02T09:00:00Z' },
      { ...obs('8867-4', '2024-02-03T09:00:00Z', 72, '/min'), code: { coding: [{ code: '8867-4' }] } },
    ]);
    expect(v.heartRate.map((p) => p.value)).toEqual([70, 71, 72]);
  });

  it('gives weights in kg', () => {
    expect(weightInKg({ value: 70, code: 'kg' })).toBe(70);
    expect(weightInKg({ value: 3500, code: 'g' })).toBe(3.5);
    expect(weightInKg({ value: 154, code: '[lb_av]' })).toBe(69.85);
    expect(weightInKg({ value: 154, unit: 'lbs' })).toBe(69.85);
    expect(weightInKg({ value: 70 })).toBe(70);
    expect(weightInKg({ value: 1, code: 'stone' })).toBeUndefined();
    const v = extractVitals([obs('29463-7', '2024-01-01', 3200, 'g'), obs('29463-7', '2024-01-02', 5, 'stone')]);
    expect(v.weight.map((p) => p.value)).toEqual([3.2]);
  });
});

describe('chart data', () => {
  it('aligns series on one time axis in seconds, with nulls where a series has no value', () => {
    const v = extractVitals([bp('2024-03-01T10:00:00Z', 120, 80), obs('8480-6', '2024-03-02T10:00:00Z', 125, 'mm[Hg]')]);
    const { xs, ys } = alignSeries(v.systolic, v.diastolic);
    expect(xs).toEqual([Date.parse('2024-03-01T10:00:00Z') / 1000, Date.parse('2024-03-02T10:00:00Z') / 1000]);
    expect(ys).toEqual([
      [120, 125],
      [80, null],
    ]);
  });

  it('lists the table rows newest first', () => {
    const v = extractVitals([bp('2024-03-01T10:00:00Z', 120, 80), bp('2024-03-05T10:00:00Z', 130, 85)]);
    expect(tableRows(v.systolic, v.diastolic)).toEqual([
      { t: Date.parse('2024-03-05T10:00:00Z'), date: '2024-03-05T10:00:00Z', values: [130, 85] },
      { t: Date.parse('2024-03-01T10:00:00Z'), date: '2024-03-01T10:00:00Z', values: [120, 80] },
    ]);
  });

  it('reads partial dates as local midnight', () => {
    expect(timeOf('2024')).toBe(new Date(2024, 0, 1).getTime());
    expect(timeOf('2024-05')).toBe(new Date(2024, 4, 1).getTime());
    expect(timeOf('2024-05-09')).toBe(new Date(2024, 4, 9).getTime());
    expect(timeOf('nonsense')).toBeUndefined();
  });
});
