/**
 * Required bindings: codes outside their value set are refused wherever they sit (the
 * resource, a backbone element, a data type, a choice, a contained resource); codes that
 * cannot be judged here (value sets of SNOMED CT or LOINC, text-only concepts) pass.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionCatalog } from '../definition-catalog';
import { BindingChecker } from './bindings';
import { createValidator, hasErrors } from './validator';

const checker = new BindingChecker(new DefinitionCatalog());
const at = (r: unknown) => checker.check(r).map((i) => i.expression?.[0]);

describe('required bindings', () => {
  it('refuses codes outside the value set, with their paths', () => {
    expect(at({ resourceType: 'Patient', gender: 'banana' })).toEqual(['Patient.gender']);
    expect(at({ resourceType: 'Observation', status: 'bogus', code: { text: 'x' } })).toEqual(['Observation.status']);
    // Data types: HumanName.use, ContactPoint.system; a backbone element: Patient.contact.gender.
    expect(at({ resourceType: 'Patient', name: [{ use: 'nickname' }, { use: 'nick' }], telecom: [{ system: 'pigeon', value: 'x' }], contact: [{ gender: 'x' }] })).toEqual([
      'Patient.name[1].use',
      'Patient.telecom[0].system',
      'Patient.contact[0].gender',
    ]);
    // A choice (valueQuantity) and a contained resource.
    expect(at({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, comparator: '=' } })).toEqual(['Observation.valueQuantity.comparator']);
    expect(at({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'p', gender: 'x' }] })).toEqual(['Observation.contained[0].gender']);
  });

  it('judges Codings and CodeableConcepts by system and code', () => {
    const clinical = (system: string, code: string) => ({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, clinicalStatus: { coding: [{ system, code }] } });
    expect(at(clinical('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'))).toEqual([]);
    expect(at(clinical('http://terminology.hl7.org/CodeSystem/condition-clinical', 'sleeping'))).toEqual(['Condition.clinicalStatus']);
    expect(at(clinical('http://example.org/other', 'active'))).toEqual(['Condition.clinicalStatus']);
    // Text only, or a value set whose codes do not ship: not judged here.
    expect(at({ ...clinical('x', 'y'), clinicalStatus: { text: 'active' } })).toEqual([]);
    expect(at({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://snomed.info/sct', code: '1' }] } })).toEqual([]);
  });

  it('passes valid resources, and the validator every write uses refuses the invalid ones', () => {
    const validator = createValidator();
    expect(hasErrors(validator.validate({ resourceType: 'Patient', gender: 'female', name: [{ use: 'official', family: 'Ash' }] }))).toBe(false);
    expect(hasErrors(validator.validate({ resourceType: 'Patient', gender: 'banana' } as never))).toBe(true);
  });
});
