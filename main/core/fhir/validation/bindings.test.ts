/**
 * Bindings: codes outside a required value set are refused wherever they sit (the
 * resource, a backbone element, a data type, a choice, a contained resource, a Bundle
 * entry); extensible and preferred bindings only warn; codes that cannot be judged here
 * (value sets of SNOMED CT or LOINC, text-only concepts) pass. Messages never quote a code.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionCatalog } from '../definition-catalog';
import { BindingChecker } from './bindings';
import { createValidator, hasErrors } from './validator';

const checker = new BindingChecker(new DefinitionCatalog());
const errorsAt = (r: unknown) => checker.check(r).filter((i) => i.severity === 'error').map((i) => i.expression?.[0]);
const at = errorsAt;
const warnings = (r: unknown) => checker.check(r).filter((i) => i.severity === 'warning');

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
    // A Bundle entry, and a recursive backbone element (Questionnaire.item.item).
    expect(at({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'x' } }] })).toEqual(['Bundle.entry[0].resource.gender']);
    const item = (extra: object) => ({ linkId: 'a', type: 'group', ...extra });
    expect(at({ resourceType: 'Questionnaire', status: 'active', item: [item({ item: [item({ type: 'nonsense' })] })] })).toEqual(['Questionnaire.item[0].item[0].type']);
  });

  it('names the element and the value set, never the code', () => {
    const [issue] = checker.check({ resourceType: 'Patient', gender: 'banana-secret' });
    expect(issue).toMatchObject({ severity: 'error', code: 'code-invalid', expression: ['Patient.gender'] });
    expect(issue!.diagnostics).toContain('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(issue!.diagnostics).not.toContain('banana');
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

  it('warns, never refuses, under extensible and preferred bindings, and says which', () => {
    const v3 = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
    const marital = (concept: object) => ({ resourceType: 'Patient', maritalStatus: concept });
    expect(checker.check(marital({ coding: [{ system: v3, code: 'M' }] }))).toEqual([]);
    const out = warnings(marital({ coding: [{ system: v3, code: 'ZZ' }] }));
    expect(out.map((i) => i.expression?.[0])).toEqual(['Patient.maritalStatus']);
    expect(out[0]!.diagnostics).toMatch(/extensible/);
    expect(errorsAt(marital({ coding: [{ system: 'http://example.org/local', code: 'x' }] }))).toEqual([]);
    // Text says the concept in words: not judged under an extensible binding.
    expect(checker.check(marital({ coding: [{ system: 'http://example.org/local', code: 'x' }], text: 'Civil union' }))).toEqual([]);
    // A Coding (Encounter.class, extensible) and a preferred binding (Observation.category).
    const encounter = (code: string) => ({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code } });
    expect(checker.check(encounter('AMB'))).toEqual([]);
    expect(warnings(encounter('NOPE')).map((i) => i.expression?.[0])).toEqual(['Encounter.class']);
    const category = warnings({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, category: [{ coding: [{ system: 'http://example.org', code: 'x' }] }] });
    expect(category.map((i) => i.expression?.[0])).toEqual(['Observation.category[0]']);
    expect(category[0]!.diagnostics).toMatch(/preferred/);
    // A value set of SNOMED CT (Encounter.reasonCode, preferred) is not judged: its codes do not ship.
    expect(checker.check({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '1' }] }] })).toEqual([]);
  });

  it('passes valid resources, and the validator every write uses refuses the invalid ones', () => {
    const validator = createValidator();
    expect(hasErrors(validator.validate({ resourceType: 'Patient', gender: 'female', name: [{ use: 'official', family: 'Ash' }] }))).toBe(false);
    expect(hasErrors(validator.validate({ resourceType: 'Patient', gender: 'banana' } as never))).toBe(true);
    // A warning alone never fails a write.
    const warned = validator.validate({ resourceType: 'Patient', maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] } } as never);
    expect(warned.some((i) => i.severity === 'warning')).toBe(true);
    expect(hasErrors(warned)).toBe(false);
  });
});
