/** Builders and fixtures shared by the FHIRPath Patch tests. */
import type { Parameters, ParametersParameter, Patient, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../../shared/fhir/outcome';
import { applyFhirPathPatch } from './fhirpath-patch';

export type Part = ParametersParameter;
export const op = (type: string, path: string, ...more: Part[]): Part => ({
  name: 'operation',
  part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...more],
});
export const name = (n: string): Part => ({ name: 'name', valueString: n });
export const value = (v: Omit<Part, 'name'>): Part => ({ name: 'value', ...v });
export const int = (n: 'index' | 'source' | 'destination', i: number): Part => ({ name: n, valueInteger: i });
export const params = (...ops: Part[]): Parameters => ({ resourceType: 'Parameters', parameter: ops });
/** Typed for the tests' convenience; the patch itself does not promise the shape. */
export const run = <T extends Resource>(r: T, ...ops: Part[]): T => applyFhirPathPatch(r, params(...ops)) as T;

export function failure(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FhirError) return e;
    throw e;
  }
  throw new Error('expected a FhirError');
}
export const status = (fn: () => unknown): number => failure(fn).status;

export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFreeze);
    Object.freeze(v);
  }
  return v;
}

export const ident = (v: string) => ({ system: 'urn:test:mrn', value: v });
/** Synthetic patient: four identifiers for list tests, a backbone contact, no real data. */
export const patient = (): Patient => ({
  resourceType: 'Patient',
  id: 'pt-1',
  identifier: [ident('m1'), ident('m2'), ident('m3'), ident('m4')],
  name: [{ use: 'official', family: 'Testperson', given: ['Ann', 'Bea'] }],
  birthDate: '1971-02-03',
  contact: [{ name: { text: 'Contact One' }, gender: 'male' }],
});
