import { describe, expect, it } from 'vitest';
import { diffJson, flatten } from './json-diff';

describe('readable JSON diff', () => {
  it('flattens to paths', () => {
    expect(flatten({ a: 1, b: [{ c: 'x' }, 2], d: {}, e: [] })).toEqual([
      ['a', 1],
      ['b[0].c', 'x'],
      ['b[1]', 2],
      ['d', {}],
      ['e', []],
    ]);
  });

  it('lists changed, added and removed values per path', () => {
    const before = { resourceType: 'Patient', gender: 'male', birthDate: '1970-01-01', name: [{ family: 'Ash', given: ['Ann'] }] };
    const after = { resourceType: 'Patient', gender: 'female', name: [{ family: 'Ash', given: ['Ann', 'Bea'] }], active: true };
    expect(diffJson(before, after)).toEqual([
      { path: 'gender', kind: 'changed', before: 'male', after: 'female' },
      { path: 'birthDate', kind: 'removed', before: '1970-01-01' },
      { path: 'name[0].given[1]', kind: 'added', after: 'Bea' },
      { path: 'active', kind: 'added', after: true },
    ]);
  });

  it('aligns arrays: an element inserted in front is one addition, not every element changed', () => {
    const before = { name: [{ family: 'Ash' }, { family: 'Birch' }] };
    const after = { name: [{ family: 'New' , given: ['N'] }, { family: 'Ash' }, { family: 'Birch' }] };
    expect(diffJson(before, after)).toEqual([
      { path: 'name[0].family', kind: 'added', after: 'New' },
      { path: 'name[0].given[0]', kind: 'added', after: 'N' },
    ]);
  });

  it('compares an element changed in place field by field', () => {
    const before = { telecom: [{ system: 'phone', value: '1' }, { system: 'email', value: 'a@b' }] };
    const after = { telecom: [{ system: 'phone', value: '2' }, { system: 'email', value: 'a@b' }] };
    expect(diffJson(before, after)).toEqual([{ path: 'telecom[0].value', kind: 'changed', before: '1', after: '2' }]);
  });

  it('ignores the version and time every version changes, and key order', () => {
    const a = { meta: { versionId: '1', lastUpdated: 't1', tag: [{ code: 'x' }] }, code: { text: 'a', coding: [{ system: 's', code: 'c' }] } };
    const b = { meta: { versionId: '2', lastUpdated: 't2', tag: [{ code: 'x' }] }, code: { coding: [{ code: 'c', system: 's' }], text: 'a' } };
    expect(diffJson(a, b)).toEqual([]);
    expect(diffJson(a, b, { ignore: [] }).map((c) => c.path)).toEqual(['meta.versionId', 'meta.lastUpdated']);
  });

  it('shows a value that became a structure as removed and added', () => {
    expect(diffJson({ x: 'a' }, { x: { y: 1 } })).toEqual([
      { path: 'x', kind: 'removed', before: 'a' },
      { path: 'x.y', kind: 'added', after: 1 },
    ]);
  });

  it('treats a deleted version (no resource) as everything removed', () => {
    expect(diffJson({ a: 1, b: [true] }, undefined)).toEqual([
      { path: 'a', kind: 'removed', before: 1 },
      { path: 'b[0]', kind: 'removed', before: true },
    ]);
  });
});
