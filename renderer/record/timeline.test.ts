import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { filterTimeline, toTimeline, typeCounts } from './timeline';

const resources: Resource[] = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Ash' }] },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'Weight' }, effectiveDateTime: '2024-03-01T10:00:00Z' },
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'Pulse' }, effectiveDateTime: '2024-03-05T10:00:00Z' },
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' }, onsetDateTime: '2019' },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB', display: 'ambulatory' }, period: { start: '2024-03-03' } },
  { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Who' }] },
  { resourceType: 'Flag', id: 'f1', status: 'active', code: { text: 'Fall risk' }, subject: { reference: 'Patient/p1' } },
];

describe('timeline', () => {
  const items = toTimeline(resources, 'p1');

  it('lists the record newest first, without the patient or the resources it only refers to', () => {
    expect(items.map((i) => `${i.type}/${i.id}`)).toEqual(['Observation/o2', 'Encounter/e1', 'Observation/o1', 'Condition/c1', 'Flag/f1']);
    expect(items[0]).toMatchObject({ summary: 'Pulse', date: '2024-03-05T10:00:00Z' });
    expect(items[4]).toMatchObject({ summary: 'Fall risk', date: undefined });
  });

  it('counts the types present', () => {
    expect(typeCounts(items)).toEqual([
      { type: 'Condition', count: 1 },
      { type: 'Encounter', count: 1 },
      { type: 'Flag', count: 1 },
      { type: 'Observation', count: 2 },
    ]);
  });

  it('filters by type and by whole days, leaving undated entries out of a date range', () => {
    const none = new Set<string>();
    expect(filterTimeline(items, { hidden: none, from: '', to: '' })).toBe(items);
    expect(filterTimeline(items, { hidden: new Set(['Observation', 'Flag']), from: '', to: '' }).map((i) => i.id)).toEqual(['e1', 'c1']);
    expect(filterTimeline(items, { hidden: none, from: '2024-03-03', to: '' }).map((i) => i.id)).toEqual(['o2', 'e1']);
    expect(filterTimeline(items, { hidden: none, from: '', to: '2024-03-03' }).map((i) => i.id)).toEqual(['e1', 'o1', 'c1']);
    expect(filterTimeline(items, { hidden: new Set(['Encounter']), from: '2024-03-01', to: '2024-03-03' }).map((i) => i.id)).toEqual(['o1']);
  });
});
