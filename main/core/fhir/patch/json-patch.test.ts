import { describe, expect, it } from 'vitest';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { decimalTextsOf, exactNumberTexts, parseJson, stringifyJson, withDecimalTexts } from '../../../../shared/fhir/exact-json';
import { applyJsonPatch } from './json-patch';
import { deepFreeze, failure } from './test-helpers';

// A distinctive value so tests can prove it never reaches a diagnostic.
const SECRET = 'Zyxwvutsson';
const patient = (): Patient => ({
  resourceType: 'Patient',
  id: 'pt-1',
  active: true,
  name: [{ family: SECRET, given: ['Ann', 'Bea'] }],
  telecom: [{ system: 'phone', value: '555-0100' }],
});

describe('applyJsonPatch: operations', () => {
  it('applies add, remove, replace, move, copy and test in order', () => {
    const out = applyJsonPatch(patient(), [
      { op: 'test', path: '/name/0/given/1', value: 'Bea' },
      { op: 'add', path: '/name/0/given/-', value: 'Cy' },
      { op: 'add', path: '/name/0/given/0', value: 'Al' },
      { op: 'remove', path: '/active' },
      { op: 'replace', path: '/telecom/0/value', value: '555-0199' },
      { op: 'move', from: '/name/0/given/3', path: '/name/0/given/1' },
      { op: 'copy', from: '/telecom/0', path: '/telecom/-' },
      { op: 'add', path: '/gender', value: 'female' },
    ]);
    expect(out).toEqual({
      resourceType: 'Patient',
      id: 'pt-1',
      gender: 'female',
      name: [{ family: SECRET, given: ['Al', 'Cy', 'Ann', 'Bea'] }],
      telecom: [
        { system: 'phone', value: '555-0199' },
        { system: 'phone', value: '555-0199' },
      ],
    });
  });

  it('accepts an empty patch and escaped pointer tokens', () => {
    expect(applyJsonPatch(patient(), [])).toEqual(patient());
    const out = applyJsonPatch(patient(), [{ op: 'add', path: '/meta', value: { 'a/b~c': 1, versionId: '1' } }, { op: 'remove', path: '/meta/a~1b~0c' }]);
    expect(out.meta).toEqual({ versionId: '1' });
  });

  it('a failed test is 422 and aborts the whole patch', () => {
    const input = patient();
    const e = failure(() =>
      applyJsonPatch(input, [
        { op: 'replace', path: '/active', value: false },
        { op: 'test', path: '/name/0/family', value: 'Someone' },
      ]),
    );
    expect(e.status).toBe(422);
    expect(e.outcome.issue?.[0]?.code).toBe('processing');
    expect(e.message).toContain('operation 1');
    expect(input.active).toBe(true);
  });

  it('a path the resource does not have is 422', () => {
    for (const patch of [
      [{ op: 'remove', path: '/birthDate' }],
      [{ op: 'replace', path: '/name/3/family', value: 'x' }],
      [{ op: 'add', path: '/name/5', value: {} }],
      [{ op: 'add', path: '/contact/0/name', value: {} }],
      [{ op: 'move', from: '/nowhere', path: '/gender' }],
      [{ op: 'test', path: '/birthDate', value: '2000-01-01' }],
      // An array has no member 'first': the pointer names nothing in this document.
      [{ op: 'replace', path: '/name/first/family', value: 'x' }],
    ]) {
      expect(failure(() => applyJsonPatch(patient(), patch)).status).toBe(422);
    }
  });
});

describe('applyJsonPatch: malformed documents', () => {
  it.each([
    ['not an array', { op: 'add', path: '/gender', value: 'male' }],
    ['null', null],
    ['operation not an object', ['add']],
    ['unknown op', [{ op: 'merge', path: '/gender', value: 'x' }]],
    ['missing path', [{ op: 'remove' }]],
    ['path without leading slash', [{ op: 'remove', path: 'gender' }]],
    ['bad escape', [{ op: 'remove', path: '/a~2b' }]],
    ['add without value', [{ op: 'add', path: '/gender' }]],
    ['test without value', [{ op: 'test', path: '/gender' }]],
    ['move without from', [{ op: 'move', path: '/gender' }]],
    ['copy with non-string from', [{ op: 'copy', from: 3, path: '/gender' }]],
    ['move into own child', [{ op: 'move', from: '/name/0', path: '/name/0/given' }]],
    ['prototype pollution', [{ op: 'add', path: '/__proto__/polluted', value: true }]],
  ])('%s is 400', (_label, patch) => {
    const e = failure(() => applyJsonPatch(patient(), patch));
    expect(e.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyJsonPatch: identity, immutability, PHI', () => {
  it('rejects any change to id or resourceType, including via the root', () => {
    for (const patch of [
      [{ op: 'replace', path: '/id', value: 'pt-2' }],
      [{ op: 'remove', path: '/id' }],
      [{ op: 'replace', path: '/resourceType', value: 'Practitioner' }],
      [{ op: 'replace', path: '', value: { resourceType: 'Patient', id: 'pt-9' } }],
      [{ op: 'remove', path: '' }],
    ]) {
      expect(failure(() => applyJsonPatch(patient(), patch)).status).toBe(400);
    }
    // Rewriting the id to itself, or testing it, is not a change.
    expect(applyJsonPatch(patient(), [{ op: 'test', path: '/id', value: 'pt-1' }, { op: 'replace', path: '/id', value: 'pt-1' }]).id).toBe('pt-1');
  });

  it('never mutates the input or links the patch values into the result', () => {
    const input = deepFreeze(patient());
    const value = { system: 'email', value: 'a@example.org' };
    const out = applyJsonPatch(input, [{ op: 'add', path: '/telecom/-', value }, { op: 'remove', path: '/name/0/given/0' }]) as Patient;
    expect(input).toEqual(patient());
    expect(out.telecom?.[1]).toEqual(value);
    expect(out.telecom?.[1]).not.toBe(value);
    expect(out.name?.[0]).not.toBe(input.name?.[0]);
  });

  it('keeps resource content out of diagnostics', () => {
    const patches: unknown[] = [
      [{ op: 'test', path: '/name/0/family', value: `${SECRET}x` }],
      [{ op: 'replace', path: '/name/9/family', value: SECRET }],
      [{ op: 'merge', path: '/name', value: SECRET }],
    ];
    for (const patch of patches) {
      const e = failure(() => applyJsonPatch(patient(), patch));
      expect(JSON.stringify(e.outcome)).not.toContain(SECRET);
    }
  });
});

describe('applyJsonPatch: exact decimals', () => {
  const patchOf = (text: string) => withDecimalTexts(JSON.parse(text) as unknown, exactNumberTexts(text));
  const stored = () => parseJson('{"resourceType":"Observation","id":"o1","status":"final","valueQuantity":{"value":2.50},"component":[{"valueQuantity":{"value":0.50}}]}') as Resource;

  it('writes values with the texts they were sent with, and keeps those it leaves alone', () => {
    const out = applyJsonPatch(stored(), patchOf('[{"op":"add","path":"/component/-","value":{"valueQuantity":{"value":7.000}}}]'));
    expect(stringifyJson(out)).toBe('{"resourceType":"Observation","id":"o1","status":"final","valueQuantity":{"value":2.50},"component":[{"valueQuantity":{"value":0.50}},{"valueQuantity":{"value":7.000}}]}');
  });

  it('replacing a value drops its old text, even with an equal number', () => {
    const out = applyJsonPatch(stored(), patchOf('[{"op":"replace","path":"/valueQuantity/value","value":2.5}]'));
    expect(stringifyJson(out)).toContain('"valueQuantity":{"value":2.5}');
  });

  it('move and copy take the texts of what they move; remove drops them', () => {
    const copied = applyJsonPatch(stored(), patchOf('[{"op":"copy","from":"/component/0/valueQuantity","path":"/valueQuantity"}]'));
    expect(stringifyJson(copied)).toContain('"valueQuantity":{"value":0.50},"component":[{"valueQuantity":{"value":0.50}}]');
    const moved = applyJsonPatch(stored(), patchOf('[{"op":"remove","path":"/valueQuantity"},{"op":"move","from":"/component/0/valueQuantity","path":"/valueQuantity"}]'));
    expect(stringifyJson(moved)).toContain('"valueQuantity":{"value":0.50}');
    expect(decimalTextsOf(moved)).toEqual({ 'valueQuantity.value': '0.50' });
  });
});
