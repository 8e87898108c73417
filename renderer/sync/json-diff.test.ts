import { describe, expect, it } from 'vitest';
import { diffVersions, flatten, mergeOrder, readablePath } from './json-diff';

describe('flatten', () => {
  it('turns nested JSON into element paths with text values, in document order', () => {
    const m = flatten({ resourceType: 'Patient', name: [{ family: 'Ash', given: ['Ann', 'B'] }], active: true, multipleBirthInteger: 2 });
    expect([...m]).toEqual([
      ['resourceType', 'Patient'],
      ['name[0].family', 'Ash'],
      ['name[0].given[0]', 'Ann'],
      ['name[0].given[1]', 'B'],
      ['active', 'true'],
      ['multipleBirthInteger', '2'],
    ]);
  });

  it('keeps empty objects and arrays and null as leaves, and skips ignored paths with everything under them', () => {
    const m = flatten({ a: {}, b: [], c: null, meta: { versionId: '2', lastUpdated: 'x', tag: [{ code: 't' }] } }, ['meta.versionId', 'meta.lastUpdated']);
    expect([...m]).toEqual([
      ['a', '{}'],
      ['b', '[]'],
      ['c', 'null'],
      ['meta.tag[0].code', 't'],
    ]);
    expect([...flatten({ x: { y: 1 } }, ['x'])]).toEqual([]);
  });
});

describe('mergeOrder', () => {
  it('keeps each list in order and puts new paths after their predecessor (first, without one)', () => {
    expect(mergeOrder([['a', 'b', 'd'], ['a', 'c', 'd', 'e'], ['z']])).toEqual(['z', 'a', 'c', 'b', 'd', 'e']);
    expect(mergeOrder([['b'], ['a', 'b']])).toEqual(['a', 'b']);
    expect(mergeOrder([])).toEqual([]);
  });
});

describe('diffVersions', () => {
  const base = { resourceType: 'Patient', id: 'p', meta: { versionId: '2.aaa', lastUpdated: '2026-01-01T00:00:00Z' }, name: [{ family: 'FromA' }], gender: 'female' };
  const other = { resourceType: 'Patient', id: 'p', meta: { versionId: '2.bbb', lastUpdated: '2026-01-02T00:00:00Z' }, name: [{ family: 'FromB', given: ['Eve'] }] };

  it('marks changed, added and removed fields and ignores version metadata', () => {
    const rows = diffVersions([base, other]);
    expect(rows).toEqual([
      { path: 'resourceType', values: ['Patient', 'Patient'], differs: false },
      { path: 'id', values: ['p', 'p'], differs: false },
      { path: 'name[0].family', values: ['FromA', 'FromB'], differs: true },
      { path: 'name[0].given[0]', values: [undefined, 'Eve'], differs: true },
      { path: 'gender', values: ['female', undefined], differs: true },
    ]);
  });

  it('treats a deleted version as having no fields', () => {
    const rows = diffVersions([base, undefined]);
    expect(rows.every((r) => r.differs && r.values[1] === undefined)).toBe(true);
  });

  it('finds nothing different between equal versions, whatever their key order', () => {
    const rows = diffVersions([{ a: 1, b: { c: 'x' } }, { b: { c: 'x' }, a: 1 }]);
    expect(rows.some((r) => r.differs)).toBe(false);
  });
});

describe('readablePath', () => {
  it('numbers list items from 1 and separates levels', () => {
    expect(readablePath('name[0].given[1]')).toBe('name 1 › given 2');
    expect(readablePath('gender')).toBe('gender');
  });
});
