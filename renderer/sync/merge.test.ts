import { describe, expect, it } from 'vitest';
import { mergeStart, parseMerge } from './merge';

const tagged = {
  resourceType: 'Patient' as const,
  id: 'p',
  meta: {
    versionId: '3.abc',
    lastUpdated: '2026-01-01T00:00:00Z',
    tag: [{ system: 'https://flint.health/fhir/CodeSystem/sync', code: 'conflict' }],
  },
  name: [{ family: 'Ash' }],
};

describe('mergeStart', () => {
  it('starts from the version without the conflict tag and what the server sets', () => {
    expect(JSON.parse(mergeStart(tagged))).toEqual({ resourceType: 'Patient', id: 'p', name: [{ family: 'Ash' }] });
    const withProfile = { ...tagged, meta: { ...tagged.meta, profile: ['http://x/p'] } };
    expect(JSON.parse(mergeStart(withProfile)).meta).toEqual({ profile: ['http://x/p'] });
    expect(mergeStart(undefined)).toBe('');
  });
});

describe('parseMerge', () => {
  it('gives the resource back with its id', () => {
    expect(parseMerge('{"resourceType":"Patient","name":[{"family":"B"}]}', 'Patient', 'p')).toEqual({ resource: { resourceType: 'Patient', id: 'p', name: [{ family: 'B' }] } });
  });

  it('says in words what is wrong', () => {
    expect(parseMerge('{"resourceType":', 'Patient', 'p')).toEqual({ problem: expect.stringMatching(/^This is not valid JSON: /) });
    expect(parseMerge('[1]', 'Patient', 'p')).toEqual({ problem: 'This must be one JSON object: the whole record.' });
    expect(parseMerge('{"resourceType":"Observation"}', 'Patient', 'p')).toEqual({ problem: '"resourceType" must stay "Patient".' });
    expect(parseMerge('{"resourceType":"Patient","id":"q"}', 'Patient', 'p')).toEqual({ problem: '"id" must stay "p".' });
  });
});
