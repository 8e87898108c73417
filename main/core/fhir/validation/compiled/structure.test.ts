/**
 * The compiled validator's structural checks: unknown properties, ids, choice elements,
 * primitive formats in place, nulls, arrays against single values, required elements,
 * primitive extensions (`_x`), contained resources and resources in Bundles and
 * Parameters, with FHIRPath-like paths that continue from the container.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createCompiledValidator } from './compiled-validator';
import { coreStructureDefinitions } from './core-definitions';
import { parseJson } from '../../../../../shared/fhir/exact-json';

const validator = createCompiledValidator(coreStructureDefinitions());
const errors = (r: unknown): OperationOutcomeIssue[] => validator.validate(r).filter((i) => i.severity === 'error');
const at = (r: unknown): string[] => errors(r).map((i) => i.expression![0]!);
const said = (r: unknown): string[] => errors(r).map((i) => `${i.expression![0]}: ${i.diagnostics}`);

const obs = (more: Record<string, unknown> = {}) => ({ resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, ...more });

describe('structure', () => {
  it('passes a valid resource with no errors', () => {
    expect(errors({ resourceType: 'Patient', id: 'p-1.x', name: [{ family: 'Ash', given: ['Ann', 'B'] }], birthDate: '1970-01-01', active: true })).toEqual([]);
  });

  it('refuses unknown properties, at any depth, naming them', () => {
    expect(said({ resourceType: 'Patient', foo: 1, name: [{ family: 'Ash', nickname: 'x' }] })).toEqual([
      'Patient.foo: Invalid additional property "foo"',
      'Patient.name[0].nickname: Invalid additional property "nickname"',
    ]);
    // `resourceType` belongs to resources only; `value` is not a property of an Extension (value[x] is).
    expect(at({ resourceType: 'Patient', name: [{ resourceType: 'HumanName' }] })).toEqual(['Patient.name[0].resourceType']);
    expect(at({ resourceType: 'Patient', extension: [{ url: 'http://x', value: 1 }] })).toContain('Patient.extension[0].value');
  });

  it('checks the resource id against the id pattern (the definitions type it as a plain string)', () => {
    expect(at({ resourceType: 'Patient', id: 'a b$' })).toEqual(['Patient.id']);
    expect(at({ resourceType: 'Patient', id: 'x'.repeat(65) })).toEqual(['Patient.id']);
    expect(at({ resourceType: 'Patient', id: `A-z.0${'x'.repeat(59)}` })).toEqual([]);
    // Element ids are strings, not ids.
    expect(at({ resourceType: 'Patient', name: [{ id: 'any thing', family: 'A' }] })).toEqual([]);
    expect(at({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'bad id' }], subject: { reference: '#bad id' } })).toContain(
      'Observation.contained[0].id',
    );
  });

  it('takes one type at a time for a choice element, by its typed name', () => {
    expect(errors(obs({ valueQuantity: { value: 60 } }))).toEqual([]);
    expect(said(obs({ valueQuantity: { value: 60 }, valueString: 'sixty' }))).toEqual(['Observation.valueString: Only one type may be given for the choice element value[x]']);
    expect(at(obs({ valueText: 'x' }))).toEqual(['Observation.valueText']);
    expect(at(obs({ valueString: 7 }))).toEqual(['Observation.valueString']);
    // A primitive extension of another type than the value given.
    expect(at(obs({ valueString: 'a', _valueBoolean: { extension: [{ url: 'http://x', valueString: 'y' }] } }))).toEqual(['Observation.valueBoolean']);
  });

  it('checks primitive formats in place, with their paths', () => {
    expect(said({ resourceType: 'Patient', birthDate: '1970-13-01', telecom: [{ system: 'phone', value: '1', rank: 0 }], multipleBirthInteger: 1.5 })).toEqual([
      'Patient.birthDate: Invalid date format',
      'Patient.telecom[0].rank: Expected number to be positive',
      'Patient.multipleBirthInteger: Expected number to be an integer',
    ]);
    expect(at({ resourceType: 'Patient', active: 'true', gender: 3 })).toEqual(['Patient.active', 'Patient.gender']);
  });

  it('refuses arrays where one value goes and single values where an array goes', () => {
    expect(said({ resourceType: 'Patient', gender: ['male'], name: { family: 'A' } })).toEqual([
      'Patient.gender: Expected single value for property',
      'Patient.name: Expected array of values for property',
    ]);
    expect(at({ resourceType: 'Patient', name: [{ family: ['A'] }] })).toEqual(['Patient.name[0].family']);
    expect(at({ resourceType: 'Patient', name: ['Ash'] })).toEqual(['Patient.name[0]']);
  });

  it('finds missing required elements, in backbone elements and data types too', () => {
    expect(said({ resourceType: 'Observation', code: { text: 'x' } })).toEqual(['Observation.status: Missing required property']);
    expect(at(obs({ component: [{ valueString: 'x' }] }))).toEqual(['Observation.component[0].code']);
    expect(at({ resourceType: 'Patient', extension: [{ valueString: 'x' }] })).toEqual(['Patient.extension[0].url']);
    expect(errors(obs()).find((i) => i.code === 'required')).toBeUndefined();
    // A primitive extension alone makes the element present (e.g. a data-absent-reason).
    expect(at({ resourceType: 'Observation', _status: { extension: [{ url: 'http://x', valueCode: 'unknown' }] }, code: { text: 'x' } })).toEqual([]);
  });

  it('allows null only where it aligns a repeating primitive with its extensions', () => {
    const ext = { extension: [{ url: 'http://x', valueString: 'y' }] };
    expect(errors({ resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, ext] }] })).toEqual([]);
    expect(said({ resourceType: 'Patient', gender: null })).toEqual(['Patient.gender: Invalid null value']);
    expect(at({ resourceType: 'Patient', name: [{ given: ['A', null] }] })).toEqual(['Patient.name[0].given[1]']);
    expect(at({ resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, null] }] })).toEqual(['Patient.name[0].given[1]']);
    expect(at({ resourceType: 'Patient', name: [null] })).toEqual(['Patient.name[0]']);
    expect(at({ resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [ext] }] })).toEqual(['Patient.name[0].given']);
  });

  it('checks primitive extensions as elements: id and extension only', () => {
    expect(errors({ resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://x', valueDateTime: '1970' }] } })).toEqual([]);
    expect(at({ resourceType: 'Patient', _birthDate: { foo: 1 } })).toEqual(['Patient.birthDate.foo']);
    expect(at({ resourceType: 'Patient', _birthDate: [{ id: 'a' }] })).toEqual(['Patient.birthDate']);
    expect(at({ resourceType: 'Patient', _name: { id: 'a' } })).toEqual(['Patient._name']);
    expect(at({ resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://x', valueDateTime: 'not a date' }] } })).toEqual(['Patient.birthDate.extension[0].valueDateTime']);
  });

  it('validates contained resources as resources, their paths continuing from the container', () => {
    const r = obs({ contained: [{ resourceType: 'Patient', id: 'p', birthDate: 'x', foo: 1 }], subject: { reference: '#p' } });
    expect(at(r)).toEqual(['Observation.contained[0].birthDate', 'Observation.contained[0].foo']);
    expect(said(obs({ contained: [{ resourceType: 'Nope', id: 'p' }], subject: { reference: '#p' } }))).toEqual(['Observation.contained[0].resourceType: Unknown resource type']);
    expect(said(obs({ contained: [{ id: 'p' }], subject: { reference: '#p' } }))).toEqual(['Observation.contained[0]: Missing resource type']);
    expect(at(obs({ contained: [{ resourceType: 'DomainResource', id: 'p' }], subject: { reference: '#p' } }))).toEqual(['Observation.contained[0].resourceType']);
  });

  it('validates Bundle entries and Parameters resources as resources', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520', resource: { resourceType: 'Patient', gender: 'male', foo: 1 } }, { resource: { resourceType: 'Patient', birthDate: 'x' } }],
    };
    expect(at(bundle)).toEqual(['Bundle.entry[0].resource.foo', 'Bundle.entry[1].resource.birthDate']);
    expect(at({ resourceType: 'Parameters', parameter: [{ name: 'p', resource: { resourceType: 'Patient', active: 1 } }] })).toEqual(['Parameters.parameter[0].resource.active']);
    // Bundle.entry.response.outcome is an OperationOutcome, not any resource.
    const response = { resourceType: 'Bundle', type: 'batch-response', entry: [{ response: { status: '400', outcome: { resourceType: 'Patient' } } }] };
    expect(said(response)).toEqual(['Bundle.entry[0].response.outcome.resourceType: Expected a resource of type OperationOutcome']);
  });

  it('refuses an empty object in an array (single empty objects are json-rules.ts\'s to report)', () => {
    expect(at({ resourceType: 'Patient', name: [{}] })).toEqual(['Patient.name[0]']);
    expect(at({ resourceType: 'Patient', maritalStatus: {} })).toEqual([]);
  });

  it('does not change the resource it validates', () => {
    const r = obs({ valueQuantity: { value: 1, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, contained: [{ resourceType: 'Patient', id: 'p' }], subject: { reference: '#p' } });
    const before = JSON.stringify(r);
    validator.validate(r);
    expect(JSON.stringify(r)).toBe(before);
    expect(Object.getOwnPropertySymbols(r)).toEqual([]);
  });
});

describe('integers written with a fraction or an exponent', () => {
  const errorsAt = (text: string) =>
    validator
      .validate(parseJson(text))
      .filter((i) => i.severity === 'error')
      .map((i) => i.expression?.[0]);

  it('refuses 1.0 and 1e2 in integer elements, wherever they sit, and keeps accepting them in decimals', () => {
    const obs = (value: string) => `{"resourceType":"Observation","status":"final","code":{"text":"x"},${value}}`;
    expect(errorsAt(obs('"valueInteger":1.0'))).toEqual(['Observation.valueInteger']);
    expect(errorsAt(obs('"valueInteger":1e2'))).toEqual(['Observation.valueInteger']);
    expect(errorsAt(obs('"valueInteger":1'))).toEqual([]);
    expect(errorsAt(obs('"valueQuantity":{"value":1.0}'))).toEqual([]);
    expect(errorsAt(obs('"component":[{"code":{"text":"a"},"valueInteger":2},{"code":{"text":"b"},"valueInteger":3.00}]'))).toEqual(['Observation.component[1].valueInteger']);
    const bundle = `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:0f0e4a4c-1e1a-4e59-9a53-7c1c3c1e0a01","resource":${obs('"valueInteger":5.0')}}]}`;
    expect(errorsAt(bundle)).toEqual(['Bundle.entry[0].resource.valueInteger']);
  });
});
