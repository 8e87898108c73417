/**
 * Forms for Encounter, Condition, AllergyIntolerance, MedicationRequest and Immunization.
 * Coded elements use the value sets of their bindings (fields.tsx); large or example-bound
 * code sets (the condition, the allergen, the medication, the vaccine) take free text with
 * an optional code.
 */
import type { AllergyIntolerance, Condition, Encounter, Immunization, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { clone, conceptValue, isoFromLocal, localDateTime, nowLocal, pruneResource, referenceValue, toCoding, toConcept, toReference } from '../convert';
import { BooleanSelect, CodeSelect, ConceptInput, emptyConcept, TextInput, type ConceptValue } from '../fields';
import { noteValue, PatientReferenceInput, toNotes } from './common';
import type { FieldsProps, FormContext, FormSpec } from './spec';

const patientRef = (ctx: FormContext) => (ctx.patient ? `Patient/${ctx.patient}` : '');
/** The choice element `name[x]` (which the form edits as a dateTime) has no other type in `r`: otherwise the generic editor is used. */
const dateTimeOnly = (r: Resource, name: string) => Object.keys(r).every((k) => k === `${name}DateTime` || !(k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))));

// ---- Encounter -----------------------------------------------------------------------------

interface EncounterValues {
  status: string;
  class: ConceptValue;
  type: ConceptValue;
  subject: string;
  start: string;
  end: string;
  reason: ConceptValue;
}

export const encounterForm: FormSpec = {
  id: 'encounter',
  defaults: (ctx) => ({ status: 'in-progress', class: emptyConcept(), type: emptyConcept(), subject: patientRef(ctx), start: nowLocal(ctx.now), end: '', reason: emptyConcept() }),
  fromResource: (r) => {
    const e = r as Encounter;
    return {
      status: e.status ?? '',
      class: conceptValue(e.class),
      type: conceptValue(e.type?.[0]),
      subject: referenceValue(e.subject),
      start: localDateTime(e.period?.start),
      end: localDateTime(e.period?.end),
      reason: conceptValue(e.reasonCode?.[0]),
    } satisfies EncounterValues;
  },
  toResource: (values, base) => {
    const v = values as EncounterValues;
    const e: Encounter = clone((base as Encounter | undefined) ?? ({ resourceType: 'Encounter' } as Encounter));
    e.status = v.status as Encounter['status'];
    e.class = toCoding(v.class, e.class)!;
    e.type = [toConcept(v.type, e.type?.[0])!, ...(e.type ?? []).slice(1)];
    e.subject = toReference(v.subject, e.subject);
    e.period = { ...(e.period ?? {}), start: isoFromLocal(v.start, e.period?.start), end: isoFromLocal(v.end, e.period?.end) };
    e.reasonCode = [toConcept(v.reason, e.reasonCode?.[0])!, ...(e.reasonCode ?? []).slice(1)];
    return pruneResource(e);
  },
  Fields: ({ form: { control } }: FieldsProps) => (
    <>
      <div className="form-grid">
        <CodeSelect control={control} name="status" path="Encounter.status" label="Status" required />
        <ConceptInput control={control} name="class" path="Encounter.class" label="Class" required />
        <TextInput control={control} name="start" path="Encounter.period.start" label="Started" type="datetime-local" />
        <TextInput control={control} name="end" path="Encounter.period.end" label="Ended" type="datetime-local" />
      </div>
      <ConceptInput control={control} name="type" path="Encounter.type[0]" label="Type of visit" />
      <ConceptInput control={control} name="reason" path="Encounter.reasonCode[0]" label="Reason" free />
      <PatientReferenceInput control={control} name="subject" path="Encounter.subject" />
    </>
  ),
};

// ---- Condition -------------------------------------------------------------------------------

interface ConditionValues {
  clinicalStatus: ConceptValue;
  verificationStatus: ConceptValue;
  category: ConceptValue;
  severity: ConceptValue;
  code: ConceptValue;
  subject: string;
  onset: string;
  recordedDate: string;
  note: string;
}

export const conditionForm: FormSpec = {
  id: 'condition',
  fits: (r) => dateTimeOnly(r, 'onset'),
  defaults: (ctx) => ({
    clinicalStatus: { text: '', code: 'active', system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', display: 'Active' },
    verificationStatus: { text: '', code: 'confirmed', system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', display: 'Confirmed' },
    category: emptyConcept(),
    severity: emptyConcept(),
    code: emptyConcept(),
    subject: patientRef(ctx),
    onset: '',
    recordedDate: ctx.now.toISOString().slice(0, 10),
    note: '',
  }),
  fromResource: (r) => {
    const c = r as Condition;
    return {
      clinicalStatus: conceptValue(c.clinicalStatus),
      verificationStatus: conceptValue(c.verificationStatus),
      category: conceptValue(c.category?.[0]),
      severity: conceptValue(c.severity),
      code: conceptValue(c.code),
      subject: referenceValue(c.subject),
      onset: localDateTime(c.onsetDateTime),
      recordedDate: c.recordedDate ?? '',
      note: noteValue(c.note),
    } satisfies ConditionValues;
  },
  toResource: (values, base) => {
    const v = values as ConditionValues;
    const c: Condition = clone((base as Condition | undefined) ?? ({ resourceType: 'Condition' } as Condition));
    c.clinicalStatus = toConcept(v.clinicalStatus, c.clinicalStatus);
    c.verificationStatus = toConcept(v.verificationStatus, c.verificationStatus);
    c.category = [toConcept(v.category, c.category?.[0])!, ...(c.category ?? []).slice(1)];
    c.severity = toConcept(v.severity, c.severity);
    c.code = toConcept(v.code, c.code);
    c.subject = toReference(v.subject, c.subject)!;
    c.onsetDateTime = isoFromLocal(v.onset, c.onsetDateTime);
    c.recordedDate = v.recordedDate || undefined;
    c.note = toNotes(v.note, c.note);
    return pruneResource(c);
  },
  Fields: ({ form: { control } }: FieldsProps) => (
    <>
      <ConceptInput control={control} name="code" path="Condition.code" label="Condition" required />
      <div className="form-grid">
        <ConceptInput control={control} name="clinicalStatus" path="Condition.clinicalStatus" label="Clinical status" />
        <ConceptInput control={control} name="verificationStatus" path="Condition.verificationStatus" label="Verification status" />
        <ConceptInput control={control} name="category" path="Condition.category[0]" label="Category" />
        <ConceptInput control={control} name="severity" path="Condition.severity" label="Severity" />
        <TextInput control={control} name="onset" path="Condition.onsetDateTime" label="Onset" type="datetime-local" />
        <TextInput control={control} name="recordedDate" path="Condition.recordedDate" label="Recorded on" type="date" />
      </div>
      <PatientReferenceInput control={control} name="subject" path="Condition.subject" />
      <TextInput control={control} name="note" path="Condition.note[0].text" label="Note" multiline />
    </>
  ),
};

// ---- AllergyIntolerance -----------------------------------------------------------------------

interface AllergyValues {
  clinicalStatus: ConceptValue;
  verificationStatus: ConceptValue;
  type: string;
  category: string;
  criticality: string;
  code: ConceptValue;
  patient: string;
  onset: string;
  manifestation: ConceptValue;
  reactionSeverity: string;
  note: string;
}

export const allergyForm: FormSpec = {
  id: 'allergy',
  fits: (r) => dateTimeOnly(r, 'onset') && ((r as AllergyIntolerance).reaction ?? []).every((x) => (x.manifestation ?? []).length <= 1),
  defaults: (ctx) => ({
    clinicalStatus: { text: '', code: 'active', system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', display: 'Active' },
    verificationStatus: { text: '', code: 'confirmed', system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', display: 'Confirmed' },
    type: 'allergy',
    category: '',
    criticality: '',
    code: emptyConcept(),
    patient: patientRef(ctx),
    onset: '',
    manifestation: emptyConcept(),
    reactionSeverity: '',
    note: '',
  }),
  fromResource: (r) => {
    const a = r as AllergyIntolerance;
    return {
      clinicalStatus: conceptValue(a.clinicalStatus),
      verificationStatus: conceptValue(a.verificationStatus),
      type: a.type ?? '',
      category: a.category?.[0] ?? '',
      criticality: a.criticality ?? '',
      code: conceptValue(a.code),
      patient: referenceValue(a.patient),
      onset: localDateTime(a.onsetDateTime),
      manifestation: conceptValue(a.reaction?.[0]?.manifestation?.[0]),
      reactionSeverity: a.reaction?.[0]?.severity ?? '',
      note: noteValue(a.note),
    } satisfies AllergyValues;
  },
  toResource: (values, base) => {
    const v = values as AllergyValues;
    const a: AllergyIntolerance = clone((base as AllergyIntolerance | undefined) ?? ({ resourceType: 'AllergyIntolerance' } as AllergyIntolerance));
    a.clinicalStatus = toConcept(v.clinicalStatus, a.clinicalStatus);
    a.verificationStatus = toConcept(v.verificationStatus, a.verificationStatus);
    a.type = (v.type || undefined) as AllergyIntolerance['type'];
    a.category = [v.category, ...(a.category ?? []).slice(1)].filter(Boolean) as AllergyIntolerance['category'];
    a.criticality = (v.criticality || undefined) as AllergyIntolerance['criticality'];
    a.code = toConcept(v.code, a.code);
    a.patient = toReference(v.patient, a.patient)!;
    a.onsetDateTime = isoFromLocal(v.onset, a.onsetDateTime);
    const reactions = [...(a.reaction ?? [])];
    const first = reactions[0];
    const manifestation = toConcept(v.manifestation, first?.manifestation?.[0]);
    if (manifestation || v.reactionSeverity) {
      reactions[0] = { ...(first ?? {}), manifestation: manifestation ? [manifestation] : [], severity: (v.reactionSeverity || undefined) as NonNullable<AllergyIntolerance['reaction']>[number]['severity'] };
    } else if (first) reactions.shift();
    a.reaction = reactions;
    a.note = toNotes(v.note, a.note);
    return pruneResource(a);
  },
  Fields: ({ form: { control } }: FieldsProps) => (
    <>
      <ConceptInput control={control} name="code" path="AllergyIntolerance.code" label="Substance" required />
      <div className="form-grid">
        <ConceptInput control={control} name="clinicalStatus" path="AllergyIntolerance.clinicalStatus" label="Clinical status" />
        <ConceptInput control={control} name="verificationStatus" path="AllergyIntolerance.verificationStatus" label="Verification status" />
        <CodeSelect control={control} name="type" path="AllergyIntolerance.type" label="Type" />
        <CodeSelect control={control} name="category" path="AllergyIntolerance.category[0]" label="Category" />
        <CodeSelect control={control} name="criticality" path="AllergyIntolerance.criticality" label="Criticality" />
        <TextInput control={control} name="onset" path="AllergyIntolerance.onsetDateTime" label="Onset" type="datetime-local" />
      </div>
      <fieldset>
        <legend>Reaction</legend>
        <ConceptInput control={control} name="manifestation" path="AllergyIntolerance.reaction[0].manifestation[0]" label="Manifestation" />
        <CodeSelect control={control} name="reactionSeverity" path="AllergyIntolerance.reaction[0].severity" label="Severity of the reaction" />
      </fieldset>
      <PatientReferenceInput control={control} name="patient" path="AllergyIntolerance.patient" />
      <TextInput control={control} name="note" path="AllergyIntolerance.note[0].text" label="Note" multiline />
    </>
  ),
};

// ---- MedicationRequest --------------------------------------------------------------------------

interface MedicationRequestValues {
  status: string;
  intent: string;
  priority: string;
  medication: ConceptValue;
  subject: string;
  authoredOn: string;
  dosage: string;
  reason: ConceptValue;
  note: string;
}

export const medicationRequestForm: FormSpec = {
  id: 'medication-request',
  fits: (r) => !('medicationReference' in r),
  defaults: (ctx) => ({ status: 'active', intent: 'order', priority: '', medication: emptyConcept(), subject: patientRef(ctx), authoredOn: nowLocal(ctx.now), dosage: '', reason: emptyConcept(), note: '' }),
  fromResource: (r) => {
    const m = r as MedicationRequest;
    return {
      status: m.status ?? '',
      intent: m.intent ?? '',
      priority: m.priority ?? '',
      medication: conceptValue(m.medicationCodeableConcept),
      subject: referenceValue(m.subject),
      authoredOn: localDateTime(m.authoredOn),
      dosage: m.dosageInstruction?.[0]?.text ?? '',
      reason: conceptValue(m.reasonCode?.[0]),
      note: noteValue(m.note),
    } satisfies MedicationRequestValues;
  },
  toResource: (values, base) => {
    const v = values as MedicationRequestValues;
    const m: MedicationRequest = clone((base as MedicationRequest | undefined) ?? ({ resourceType: 'MedicationRequest' } as MedicationRequest));
    m.status = v.status as MedicationRequest['status'];
    m.intent = v.intent as MedicationRequest['intent'];
    m.priority = (v.priority || undefined) as MedicationRequest['priority'];
    m.medicationCodeableConcept = toConcept(v.medication, m.medicationCodeableConcept);
    m.subject = toReference(v.subject, m.subject)!;
    m.authoredOn = isoFromLocal(v.authoredOn, m.authoredOn);
    const dosage = [...(m.dosageInstruction ?? [])];
    if (v.dosage.trim()) dosage[0] = { ...(dosage[0] ?? {}), text: v.dosage.trim() };
    else if (dosage[0]) dosage[0] = { ...dosage[0], text: undefined };
    m.dosageInstruction = dosage;
    m.reasonCode = [toConcept(v.reason, m.reasonCode?.[0])!, ...(m.reasonCode ?? []).slice(1)];
    m.note = toNotes(v.note, m.note);
    return pruneResource(m);
  },
  Fields: ({ form: { control } }: FieldsProps) => (
    <>
      <ConceptInput control={control} name="medication" path="MedicationRequest.medicationCodeableConcept" label="Medication" required />
      <div className="form-grid">
        <CodeSelect control={control} name="status" path="MedicationRequest.status" label="Status" required />
        <CodeSelect control={control} name="intent" path="MedicationRequest.intent" label="Intent" required />
        <CodeSelect control={control} name="priority" path="MedicationRequest.priority" label="Priority" />
        <TextInput control={control} name="authoredOn" path="MedicationRequest.authoredOn" label="Prescribed at" type="datetime-local" />
      </div>
      <TextInput control={control} name="dosage" path="MedicationRequest.dosageInstruction[0].text" label="Dosage instructions" hint="For example: 1 tablet twice a day for 7 days." multiline />
      <ConceptInput control={control} name="reason" path="MedicationRequest.reasonCode[0]" label="Reason" free />
      <PatientReferenceInput control={control} name="subject" path="MedicationRequest.subject" />
      <TextInput control={control} name="note" path="MedicationRequest.note[0].text" label="Note" multiline />
    </>
  ),
};

// ---- Immunization -------------------------------------------------------------------------------

interface ImmunizationValues {
  status: string;
  vaccineCode: ConceptValue;
  patient: string;
  occurrence: string;
  lotNumber: string;
  primarySource: string;
  note: string;
}

export const immunizationForm: FormSpec = {
  id: 'immunization',
  fits: (r) => dateTimeOnly(r, 'occurrence'),
  defaults: (ctx) => ({ status: 'completed', vaccineCode: emptyConcept(), patient: patientRef(ctx), occurrence: nowLocal(ctx.now), lotNumber: '', primarySource: 'true', note: '' }),
  fromResource: (r) => {
    const i = r as Immunization;
    return {
      status: i.status ?? '',
      vaccineCode: conceptValue(i.vaccineCode),
      patient: referenceValue(i.patient),
      occurrence: localDateTime(i.occurrenceDateTime),
      lotNumber: i.lotNumber ?? '',
      primarySource: i.primarySource === undefined ? '' : String(i.primarySource),
      note: noteValue(i.note),
    } satisfies ImmunizationValues;
  },
  toResource: (values, base) => {
    const v = values as ImmunizationValues;
    const i: Immunization = clone((base as Immunization | undefined) ?? ({ resourceType: 'Immunization' } as Immunization));
    i.status = v.status as Immunization['status'];
    i.vaccineCode = toConcept(v.vaccineCode, i.vaccineCode)!;
    i.patient = toReference(v.patient, i.patient)!;
    i.occurrenceDateTime = isoFromLocal(v.occurrence, i.occurrenceDateTime);
    i.lotNumber = v.lotNumber.trim() || undefined;
    i.primarySource = v.primarySource === '' ? undefined : v.primarySource === 'true';
    i.note = toNotes(v.note, i.note);
    return pruneResource(i);
  },
  Fields: ({ form: { control } }: FieldsProps) => (
    <>
      <ConceptInput control={control} name="vaccineCode" path="Immunization.vaccineCode" label="Vaccine" required />
      <div className="form-grid">
        <CodeSelect control={control} name="status" path="Immunization.status" label="Status" required />
        <TextInput control={control} name="occurrence" path="Immunization.occurrenceDateTime" label="Given at" type="datetime-local" required />
        <TextInput control={control} name="lotNumber" path="Immunization.lotNumber" label="Lot number" />
        <BooleanSelect control={control} name="primarySource" path="Immunization.primarySource" label="Recorded by the person who gave it" />
      </div>
      <PatientReferenceInput control={control} name="patient" path="Immunization.patient" />
      <TextInput control={control} name="note" path="Immunization.note[0].text" label="Note" multiline />
    </>
  ),
};
