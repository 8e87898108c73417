/** The patient form: name, gender (administrative-gender), birth date, identifier, phone, email, address. */
import type { ContactPoint, Patient, Resource } from '@medplum/fhirtypes';
import { useWatch } from 'react-hook-form';
import { clone, pruneResource, words } from '../convert';
import { CodeSelect, TextInput } from '../fields';
import type { FieldsProps, FormSpec } from './spec';

export interface PatientValues {
  family: string;
  given: string;
  gender: string;
  birthDate: string;
  identifier: string;
  phone: string;
  email: string;
  line: string;
  city: string;
  postalCode: string;
  country: string;
}

const empty: PatientValues = { family: '', given: '', gender: '', birthDate: '', identifier: '', phone: '', email: '', line: '', city: '', postalCode: '', country: '' };

/** The telecom list with the form's phone and email written in, and where each ended up. */
export function telecomPlan(base: ContactPoint[] | undefined, phone: string, email: string): { list: ContactPoint[]; phoneAt?: number; emailAt?: number } {
  const list: Array<ContactPoint | undefined> = [...(base ?? [])];
  const put = (system: 'phone' | 'email', value: string) => {
    const at = list.findIndex((t) => t?.system === system);
    const v = value.trim();
    if (at >= 0) list[at] = v ? { ...list[at], value: v } : undefined;
    else if (v) list.push({ system, value: v });
  };
  put('phone', phone);
  put('email', email);
  const out = list.filter((t): t is ContactPoint => !!t);
  const phoneAt = out.findIndex((t) => t.system === 'phone');
  const emailAt = out.findIndex((t) => t.system === 'email');
  return { list: out, ...(phone.trim() && phoneAt >= 0 ? { phoneAt } : {}), ...(email.trim() && emailAt >= 0 ? { emailAt } : {}) };
}

function fromResource(r: Resource): PatientValues {
  const p = r as Patient;
  const n = p.name?.[0];
  const a = p.address?.[0];
  return {
    family: n?.family ?? '',
    given: (n?.given ?? []).join(' '),
    gender: p.gender ?? '',
    birthDate: p.birthDate ?? '',
    identifier: p.identifier?.[0]?.value ?? '',
    phone: p.telecom?.find((t) => t.system === 'phone')?.value ?? '',
    email: p.telecom?.find((t) => t.system === 'email')?.value ?? '',
    line: (a?.line ?? []).join('\n'),
    city: a?.city ?? '',
    postalCode: a?.postalCode ?? '',
    country: a?.country ?? '',
  };
}

function toResource(values: object, base: Resource | undefined): Patient {
  const v = values as PatientValues;
  const p: Patient = clone((base as Patient | undefined) ?? { resourceType: 'Patient' });
  const names = [...(p.name ?? [])];
  const before = names[0];
  const given = words(v.given);
  const name = { ...(before ?? { use: 'official' as const }), family: v.family.trim(), given };
  // A stored display text no longer says the same once the parts change.
  if (before?.text && (before.family !== name.family || (before.given ?? []).join(' ') !== given.join(' '))) delete name.text;
  names[0] = name;
  p.name = names;
  p.gender = (v.gender || undefined) as Patient['gender'];
  p.birthDate = v.birthDate || undefined;
  const ids = [...(p.identifier ?? [])];
  if (v.identifier.trim()) ids[0] = { ...(ids[0] ?? {}), value: v.identifier.trim() };
  else if (ids[0]) ids.shift();
  p.identifier = ids;
  p.telecom = telecomPlan(p.telecom, v.phone, v.email).list;
  const addresses = [...(p.address ?? [])];
  addresses[0] = { ...(addresses[0] ?? {}), line: v.line.split('\n').map((l) => l.trim()).filter(Boolean), city: v.city.trim(), postalCode: v.postalCode.trim(), country: v.country.trim() };
  p.address = addresses;
  return pruneResource(p);
}

function PatientFields({ form, base }: FieldsProps) {
  const { control } = form;
  const [phone, email] = useWatch({ control, name: ['phone', 'email'] }) as [string, string];
  const plan = telecomPlan((base as Patient | undefined)?.telecom, phone ?? '', email ?? '');
  return (
    <>
      <fieldset>
        <legend>Name</legend>
        <div className="form-grid">
          <TextInput control={control} name="family" path="Patient.name[0].family" label="Family name" required autoComplete="off" />
          <TextInput control={control} name="given" path="Patient.name[0].given" label="Given names" hint="Separate several with spaces." autoComplete="off" />
        </div>
      </fieldset>
      <div className="form-grid">
        <CodeSelect control={control} name="gender" path="Patient.gender" label="Gender" />
        <TextInput control={control} name="birthDate" path="Patient.birthDate" label="Birth date" type="date" />
        <TextInput control={control} name="identifier" path="Patient.identifier[0]" label="Medical record number" autoComplete="off" />
      </div>
      <fieldset>
        <legend>Contact</legend>
        <div className="form-grid">
          <TextInput control={control} name="phone" path={`Patient.telecom[${plan.phoneAt ?? plan.list.length}]`} label="Phone" type="tel" autoComplete="off" />
          <TextInput control={control} name="email" path={`Patient.telecom[${plan.emailAt ?? plan.list.length + (plan.phoneAt === undefined ? 1 : 0)}]`} label="Email" type="email" autoComplete="off" />
        </div>
        <div className="form-grid">
          <TextInput control={control} name="line" path="Patient.address[0].line" label="Street address" multiline className="span-2" />
          <TextInput control={control} name="city" path="Patient.address[0].city" label="City" autoComplete="off" />
          <TextInput control={control} name="postalCode" path="Patient.address[0].postalCode" label="Postal code" autoComplete="off" />
          <TextInput control={control} name="country" path="Patient.address[0].country" label="Country" autoComplete="off" />
        </div>
      </fieldset>
    </>
  );
}

export const patientForm: FormSpec = {
  id: 'patient',
  defaults: () => ({ ...empty }),
  fromResource,
  toResource,
  Fields: PatientFields,
};
