/**
 * FHIR JSON has no empty values (json.html): an empty array, object or string anywhere is
 * refused, by the rule alone and through the validator every write uses; what FHIR allows
 * (nulls aligning a repeating primitive with its `_` extensions) still passes.
 */
import { describe, expect, it } from 'vitest';
import { emptyValueIssues } from './json-rules';
import { createValidator, hasErrors } from './validator';

const validator = createValidator();
const paths = (r: unknown) => emptyValueIssues(r).map((i) => i.expression?.[0]);

describe('FHIR JSON: no empty values', () => {
  it('finds empty arrays, objects and strings at any depth, with their paths', () => {
    expect(paths({ resourceType: 'Patient', name: [] })).toEqual(['Patient.name']);
    expect(paths({ resourceType: 'Patient', meta: {} })).toEqual(['Patient.meta']);
    expect(paths({ resourceType: 'Patient', gender: '' })).toEqual(['Patient.gender']);
    expect(paths({ resourceType: 'Patient', name: [{ family: 'Ash', given: ['Ann', ''] }], contact: [{ name: { given: [] } }] })).toEqual([
      'Patient.name[0].given[1]',
      'Patient.contact[0].name.given',
    ]);
    expect(paths({ resourceType: 'Observation', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'HR' }, valueQuantity: {} })).toEqual(['Observation.valueQuantity']);
  });

  it('leaves valid resources alone, nulls that align primitive arrays included', () => {
    expect(paths({ resourceType: 'Patient', name: [{ given: ['Ann', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueBoolean: true }] }] }] })).toEqual([]);
    expect(paths({ resourceType: 'Patient', active: false, multipleBirthInteger: 0 })).toEqual([]);
  });

  it('makes the validator refuse them, as every write is checked', () => {
    for (const bad of [{ resourceType: 'Patient', name: [] }, { resourceType: 'Patient', gender: '' }, { resourceType: 'Patient', meta: {} }]) {
      expect(hasErrors(validator.validate(bad as never)), JSON.stringify(bad)).toBe(true);
    }
    expect(hasErrors(validator.validate({ resourceType: 'Patient', name: [{ family: 'Ash' }] }))).toBe(false);
  });
});
