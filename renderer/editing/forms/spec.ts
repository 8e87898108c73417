/**
 * A form for one resource type: its values from a resource (or defaults for a new one),
 * the resource from its values (written into a copy of the resource being edited, so
 * nothing the form does not show is lost), and the component with its fields.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ComponentType } from 'react';
import type { FieldValues, UseFormReturn } from 'react-hook-form';

export interface FormContext {
  /** `?patient=<id>`: the patient a new resource is about. */
  patient?: string | undefined;
  now: Date;
}

export interface FieldsProps {
  form: UseFormReturn<FieldValues>;
  /** The resource being edited (undefined for a new one). */
  base: Resource | undefined;
}

export interface FormSpec {
  /** Which form this is (a new id remounts the form). */
  id: string;
  defaults(ctx: FormContext): FieldValues;
  fromResource(r: Resource): FieldValues;
  toResource(v: FieldValues, base: Resource | undefined): Resource;
  /** False when this form would hide or drop part of `r` it cannot edit: the generic editor is used instead. */
  fits?(r: Resource): boolean;
  Fields: ComponentType<FieldsProps>;
}
