/** Fields several forms share: the patient the resource is about, and a note. */
import type { Annotation, Patient } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { useWatch, type Control, type FieldValues } from 'react-hook-form';
import { useFlint } from '../../app/flint-context';
import { humanName } from '../../fhir/format';
import { TextInput } from '../fields';

/** A reference to a patient (`Patient/<id>`), with the patient's name shown below it once found. */
export function PatientReferenceInput({ control, name, path, label = 'Patient', required = true }: { control: Control<FieldValues>; name: string; path: string; label?: string; required?: boolean }) {
  const { fhir } = useFlint();
  const value = (useWatch({ control, name }) as string | undefined) ?? '';
  const id = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(value.trim())?.[1];
  const patient = useQuery({ queryKey: ['fhir', 'Patient', id], queryFn: async () => (await fhir.read<Patient>('Patient', id!)).resource, enabled: !!id, retry: false });
  const hint = !value ? 'A reference such as Patient/123.' : patient.data ? `${humanName(patient.data.name)}${patient.data.birthDate ? `, born ${patient.data.birthDate}` : ''}` : patient.isError ? 'No patient with this id was found.' : 'Patient/<id>';
  return (
    <TextInput
      control={control}
      name={name}
      path={path}
      label={label}
      hint={hint}
      required={required}
      rules={{ pattern: { value: /^\s*[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}\s*$/, message: 'Write the reference as Type/id, for example Patient/123.' } }}
    />
  );
}

export const noteValue = (notes: Annotation[] | undefined) => notes?.[0]?.text ?? '';

/** The first note's text written back; other notes stay. */
export function toNotes(text: string, base: Annotation[] | undefined): Annotation[] | undefined {
  const rest = (base ?? []).slice(1);
  const t = text.trim();
  if (!t) return rest.length ? rest : undefined;
  const first = base?.[0]?.text === t ? base[0] : { ...(base?.[0] ?? {}), text: t };
  return [first, ...rest];
}
