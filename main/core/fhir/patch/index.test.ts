import { describe, expect, it } from 'vitest';
import type { Parameters, Patient } from '@medplum/fhirtypes';
import { FhirError } from '../../../../shared/fhir/outcome';
import { applyPatch } from './index';

const patient = (): Patient => ({ resourceType: 'Patient', id: 'pt-1', birthDate: '1971-02-03' });
const fhirPathPatch: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'operation',
      part: [
        { name: 'type', valueCode: 'replace' },
        { name: 'path', valueString: 'Patient.birthDate' },
        { name: 'value', valueDate: '1972-01-01' },
      ],
    },
  ],
};
const jsonPatch = [{ op: 'replace', path: '/birthDate', value: '1972-01-01' }];

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof FhirError) return e.status;
    throw e;
  }
  return 200;
}

describe('applyPatch: dispatch on Content-Type', () => {
  it.each(['application/json-patch+json', 'Application/JSON-Patch+JSON; charset=utf-8'])('%s is JSON Patch', (type) => {
    expect((applyPatch(patient(), type, jsonPatch) as Patient).birthDate).toBe('1972-01-01');
  });

  it.each(['application/fhir+json', 'application/json', 'application/fhir+json; fhirVersion=4.0; charset=UTF-8'])(
    '%s with Parameters is FHIRPath Patch',
    (type) => {
      expect((applyPatch(patient(), type, fhirPathPatch) as Patient).birthDate).toBe('1972-01-01');
    },
  );

  it('answers 415 for other media types and for FHIR JSON bodies that are not Parameters', () => {
    expect(statusOf(() => applyPatch(patient(), 'application/xml', fhirPathPatch))).toBe(415);
    expect(statusOf(() => applyPatch(patient(), 'application/merge-patch+json', { gender: 'male' }))).toBe(415);
    expect(statusOf(() => applyPatch(patient(), 'text/plain', jsonPatch))).toBe(415);
    expect(statusOf(() => applyPatch(patient(), '', jsonPatch))).toBe(415);
    expect(statusOf(() => applyPatch(patient(), 'application/fhir+json', { resourceType: 'Patient', gender: 'male' }))).toBe(415);
    expect(statusOf(() => applyPatch(patient(), 'application/json', jsonPatch))).toBe(415);
  });

  it('passes the format errors through unchanged', () => {
    expect(statusOf(() => applyPatch(patient(), 'application/json-patch+json', fhirPathPatch))).toBe(400);
    const missing = { ...fhirPathPatch, parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }] }] };
    expect(statusOf(() => applyPatch(patient(), 'application/fhir+json', missing))).toBe(400);
  });
});
