/** Which form edits a resource: a type's own form when it has one and can hold the resource, else the generic editor. */
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { allergyForm, conditionForm, encounterForm, immunizationForm, medicationRequestForm } from './clinical';
import { genericForm } from './generic';
import { observationForm } from './observation';
import { patientForm } from './patient';
import type { FormSpec } from './spec';

export const FORMS: Record<string, FormSpec> = {
  Patient: patientForm,
  Encounter: encounterForm,
  Observation: observationForm,
  Condition: conditionForm,
  AllergyIntolerance: allergyForm,
  MedicationRequest: medicationRequestForm,
  Immunization: immunizationForm,
};

export function formFor(type: string, resource: Resource | undefined, sd: StructureDefinition): FormSpec {
  const own = FORMS[type];
  if (own && (!resource || !own.fits || own.fits(resource))) return own;
  return genericForm(sd);
}

export type { FormSpec, FormContext, FieldsProps } from './spec';
