/**
 * Invariants of data types wherever they occur (a Period in an Encounter, in an Identifier,
 * in a HumanName; a Quantity in a choice; a Timing inside a Dosage; ...), of backbone
 * elements and of resources, each valid and invalid; ele-1 and ext-1 everywhere; dom-2..dom-6
 * on contained resources; warnings that never make a resource invalid. Messages name the
 * constraint and its human text.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createCompiledValidator } from './compiled-validator';
import { coreStructureDefinitions } from './core-definitions';

const validator = createCompiledValidator(coreStructureDefinitions());
const fhirpathOnly = createCompiledValidator(coreStructureDefinitions(), { natives: false });
const invariants = (r: unknown, v = validator): string[] =>
  v
    .validate(r)
    .filter((i: OperationOutcomeIssue) => i.code === 'invariant' && i.severity === 'error')
    .map((i) => `${/^Constraint (\S+)/.exec(i.diagnostics!)![1]} ${i.expression![0]}`);

const encounter = (more: Record<string, unknown>) => ({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, ...more });
const obs = (more: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...more });
const request = (dosage: Record<string, unknown>) => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'x' }, subject: { reference: 'Patient/p' }, dosageInstruction: [dosage] });

/** Every case is checked by both engines: the native checks and fhirpath.js must agree. */
function expectBoth(r: unknown, expected: string[]): void {
  expect(invariants(r), JSON.stringify(r)).toEqual(expected);
  expect(invariants(r, fhirpathOnly), `fhirpath.js: ${JSON.stringify(r)}`).toEqual(expected);
}

describe('data type invariants, wherever the type occurs', () => {
  it('per-1: a Period starts before it ends (instants, dates, zones, mixed precision)', () => {
    expectBoth(encounter({ period: { start: '2020-01-01T10:00:00-05:00', end: '2020-01-01T11:00:00-05:00' } }), []);
    expectBoth(encounter({ period: { start: '2020-01-01T10:00:00-05:00', end: '2020-01-01T09:00:00-05:00' } }), ['per-1 Encounter.period']);
    expectBoth(encounter({ period: { start: '2020-01-01T16:00:00+01:00', end: '2020-01-01T10:30:00-05:00' } }), []);
    expectBoth(encounter({ period: { start: '2020-02-01', end: '2020-01-01' } }), ['per-1 Encounter.period']);
    expectBoth(encounter({ period: { start: '2020-01', end: '2020-01-15' } }), []);
    expectBoth(encounter({ period: { start: '2020-01-02', end: '2020-01-01T10:00:00Z' } }), ['per-1 Encounter.period']);
    expectBoth(encounter({ period: { start: '2020-01-01', end: '2020-01-01T10:00:00Z' } }), []);
    expectBoth(encounter({ period: { end: '2020-01-01' } }), []);
    // Inside other data types: Identifier.period, HumanName.period, and a backbone element.
    expectBoth({ resourceType: 'Patient', identifier: [{ value: '1', period: { start: '2021', end: '2020' } }], name: [{ family: 'A', period: { start: '2021', end: '2020' } }] }, [
      'per-1 Patient.identifier[0].period',
      'per-1 Patient.name[0].period',
    ]);
    expectBoth(encounter({ participant: [{ period: { start: '2021', end: '2020' } }] }), ['per-1 Encounter.participant[0].period']);
  });

  it('qty-3 and sqty-1: a unit code needs its system; a SimpleQuantity has no comparator', () => {
    expectBoth(obs({ valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'mg' } }), []);
    expectBoth(obs({ valueQuantity: { value: 1, code: 'mg' } }), ['qty-3 Observation.valueQuantity']);
    expectBoth(obs({ component: [{ code: { text: 'c' }, valueQuantity: { value: 1, code: 'mg' } }] }), ['qty-3 Observation.component[0].valueQuantity']);
    expectBoth(obs({ referenceRange: [{ low: { value: 1, comparator: '<' } }] }), ['sqty-1 Observation.referenceRange[0].low']);
    expectBoth(obs({ valueQuantity: { value: 1, comparator: '<' } }), []);
  });

  it('att-1: an Attachment with data has a content type', () => {
    const report = (a: Record<string, unknown>) => ({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, presentedForm: [a] });
    expectBoth(report({ contentType: 'text/plain', data: 'SGVsbG8=' }), []);
    expectBoth(report({ data: 'SGVsbG8=' }), ['att-1 DiagnosticReport.presentedForm[0]']);
  });

  it('ref-1: a local reference points at a contained resource', () => {
    expectBoth(obs({ subject: { reference: 'Patient/1' } }), []);
    expectBoth(obs({ contained: [{ resourceType: 'Patient', id: 'p' }], subject: { reference: '#p' } }), []);
    expectBoth(obs({ contained: [{ resourceType: 'Patient', id: 'p' }], subject: { reference: '#q' }, performer: [{ reference: '#p' }] }), ['ref-1 Observation.subject']);
    // Inside a contained resource, %rootResource is the container.
    const sibling = obs({
      contained: [
        { resourceType: 'Patient', id: 'p', managingOrganization: { reference: '#o' } },
        { resourceType: 'Organization', id: 'o', name: 'Org' },
      ],
      subject: { reference: '#p' },
    });
    expectBoth(sibling, []);
  });

  it('ref-1: "#" is a contained resource referring to its container, nothing else', () => {
    const r = obs({ id: 'o', contained: [{ resourceType: 'Provenance', id: 'pv', target: [{ reference: '#' }], recorded: '2020-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }] }] });
    expect(invariants(r)).toEqual([]);
    expect(invariants(obs({ subject: { reference: '#' } }))).toEqual(['ref-1 Observation.subject']);
  });

  it('cpt-2: a ContactPoint with a value has a system', () => {
    expectBoth({ resourceType: 'Patient', telecom: [{ system: 'phone', value: '555' }] }, []);
    expectBoth({ resourceType: 'Patient', telecom: [{ value: '555' }], contact: [{ telecom: [{ value: '1' }] }] }, ['cpt-2 Patient.telecom[0]', 'cpt-2 Patient.contact[0].telecom[0]']);
  });

  it('rng-2 and rat-1: a Range is ordered, a Ratio has both parts or neither', () => {
    const ucum = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: 'mg' });
    expectBoth(obs({ valueRange: { low: ucum(1), high: ucum(2) } }), []);
    expectBoth(obs({ valueRange: { low: ucum(3), high: ucum(2) } }), ['rng-2 Observation.valueRange']);
    // Without units fhirpath.js finds the two incomparable: empty, so no violation.
    expectBoth(obs({ valueRange: { low: { value: 3 }, high: { value: 2 } } }), []);
    expectBoth(obs({ valueRange: { low: ucum(3) } }), []);
    expectBoth(obs({ valueRatio: { numerator: ucum(1), denominator: ucum(2) } }), []);
    expectBoth(obs({ valueRatio: { numerator: ucum(1) } }), ['rat-1 Observation.valueRatio']);
    expectBoth(obs({ valueRatio: { denominator: ucum(1) } }), ['rat-1 Observation.valueRatio']);
  });

  it('tim-1..tim-10: a Timing inside a Dosage inside a MedicationRequest', () => {
    const timing = (repeat: Record<string, unknown>) => request({ text: 'x', timing: { repeat } });
    expectBoth(timing({ frequency: 1, period: 1, periodUnit: 'd', duration: 2, durationUnit: 'h' }), []);
    expectBoth(timing({ duration: 2 }), ['tim-1 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ period: 1 }), ['tim-2 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ duration: -1, durationUnit: 'h' }), ['tim-4 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ period: -1, periodUnit: 'd' }), ['tim-5 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ periodMax: 2 }), ['tim-6 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ durationMax: 2 }), ['tim-7 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ countMax: 2 }), ['tim-8 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ offset: 30, when: ['ACM'] }), []);
    expectBoth(timing({ offset: 30, when: ['C'] }), ['tim-9 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ offset: 30 }), ['tim-9 MedicationRequest.dosageInstruction[0].timing.repeat']);
    expectBoth(timing({ timeOfDay: ['08:00:00'], when: ['MORN'] }), ['tim-10 MedicationRequest.dosageInstruction[0].timing.repeat']);
    // Dosage's own parts: a Ratio in doseAndRate.
    expectBoth(request({ text: 'x', doseAndRate: [{ rateRatio: { numerator: { value: 1 } } }] }), ['rat-1 MedicationRequest.dosageInstruction[0].doseAndRate[0].rateRatio']);
  });

  it('ext-1: an extension has a value or extensions, not both, wherever it is', () => {
    const ext = (e: Record<string, unknown>) => ({ resourceType: 'Patient', extension: [{ url: 'http://x', ...e }] });
    expectBoth(ext({ valueString: 'a' }), []);
    expectBoth(ext({ extension: [{ url: 'y', valueString: 'a' }] }), []);
    expectBoth(ext({ valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }), ['ext-1 Patient.extension[0]']);
    expectBoth(ext({}), ['ext-1 Patient.extension[0]']);
    expectBoth({ resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://x' }] } }, ['ext-1 Patient.birthDate.extension[0]']);
    expectBoth({ resourceType: 'Patient', name: [{ family: 'A', extension: [{ url: 'http://x' }] }] }, ['ext-1 Patient.name[0].extension[0]']);
  });

  it('ele-1: an element with an id and nothing else has no value or children', () => {
    expect(invariants({ resourceType: 'Patient', maritalStatus: { id: 'x' } })).toEqual(['ele-1 Patient.maritalStatus']);
    expect(invariants({ resourceType: 'Patient', _birthDate: { id: 'x' } })).toEqual(['ele-1 Patient.birthDate']);
    expect(invariants({ resourceType: 'Patient', birthDate: '1970', _birthDate: { id: 'x' } })).toEqual([]);
    expect(invariants({ resourceType: 'Patient', maritalStatus: { id: 'x', text: 'married' } })).toEqual([]);
  });

  it('SampledData, HumanName, Identifier, Timing: their structure inside the data type is checked too', () => {
    const sampled = (s: Record<string, unknown>) => obs({ valueSampledData: s });
    expect(validator.validate(sampled({ origin: { value: 0 }, period: 10, dimensions: 1, data: '1 2 3' })).filter((i) => i.severity === 'error')).toEqual([]);
    expect(
      validator
        .validate(sampled({ origin: { value: 0 }, period: '10', dimensions: 0 }))
        .filter((i) => i.severity === 'error')
        .map((i) => i.expression![0]),
    ).toEqual(['Observation.valueSampledData.period', 'Observation.valueSampledData.dimensions']);
  });
});

describe('backbone and resource invariants', () => {
  it('evaluates a backbone element\'s invariants (pat-1) and a resource\'s (obs-6, obs-7)', () => {
    expectBoth({ resourceType: 'Patient', contact: [{ gender: 'male' }] }, ['pat-1 Patient.contact[0]']);
    expectBoth(obs({ valueString: 'x', dataAbsentReason: { text: 'gone' } }), ['obs-6 Observation']);
    expectBoth(obs({ code: { coding: [{ system: 'http://loinc.org', code: '1' }] }, valueString: 'x', component: [{ code: { coding: [{ system: 'http://loinc.org', code: '1' }] } }] }), ['obs-7 Observation']);
  });

  it('Synthea\'s resource invariants, natively checked, agree with fhirpath.js both ways', () => {
    const clinical = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
    const verification = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] });
    const condition = (more: Record<string, unknown>) => ({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, ...more });
    expectBoth(condition({ clinicalStatus: clinical('resolved'), abatementDateTime: '2020' }), []);
    expectBoth(condition({ clinicalStatus: clinical('active'), abatementDateTime: '2020' }), ['con-4 Condition']);
    expectBoth(condition({ clinicalStatus: clinical('active'), verificationStatus: verification('entered-in-error') }), ['con-5 Condition']);
    expectBoth(condition({ verificationStatus: verification('confirmed') }), []);
    const allergy = (more: Record<string, unknown>) => ({ resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p' }, ...more });
    expectBoth(allergy({ clinicalStatus: { text: 'active' } }), []);
    expectBoth(allergy({ verificationStatus: { text: 'unconfirmed' } }), ['ait-1 AllergyIntolerance']);
    expectBoth({ resourceType: 'Organization', name: 'Clinic', address: [{ use: 'work', city: 'X' }], telecom: [{ system: 'phone', value: '1', use: 'home' }] }, ['org-3 Organization.telecom[0]']);
    expectBoth({ resourceType: 'Organization', active: true }, ['org-1 Organization']);
    expectBoth({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p' }, orderDetail: [{ text: 'x' }] }, ['prr-1 ServiceRequest']);
    expectBoth({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p' }, activity: [{ reference: { reference: 'ServiceRequest/s' }, detail: { status: 'scheduled' } }] }, [
      'cpl-3 CarePlan.activity[0]',
    ]);
    expectBoth(obs({ valueString: 'x' }), []);
  });

  it('dom-2..dom-5: contained resources hold no contained resources, versions or security labels, and are referenced', () => {
    const c = (patient: Record<string, unknown>, more: Record<string, unknown> = { subject: { reference: '#p' } }) => obs({ contained: [{ resourceType: 'Patient', id: 'p', ...patient }], ...more });
    expect(invariants(c({}))).toEqual([]);
    expect(invariants(c({ contained: [{ resourceType: 'Organization', id: 'o', name: 'x' }], managingOrganization: { reference: '#o' } }))).toContain('dom-2 Observation');
    expect(invariants(c({ meta: { versionId: '1' } }))).toEqual(['dom-4 Observation']);
    expect(invariants(c({ meta: { security: [{ system: 'http://x', code: 'R' }] } }))).toEqual(['dom-5 Observation']);
    expect(invariants(c({}, {}))).toEqual(['dom-3 Observation']);
    // Referenced from a canonical or from another contained resource, or referring to the container.
    expect(invariants(c({}, { focus: [{ reference: 'Patient/x' }], extension: [{ url: 'http://x', valueCanonical: '#p' }] }))).toEqual([]);
    expect(invariants(c({ link: [{ other: { reference: '#' }, type: 'seealso' }] }, {}))).toEqual([]);
    expect(invariants(obs({ contained: [{ resourceType: 'Patient', id: 'p', managingOrganization: { reference: '#o' } }, { resourceType: 'Organization', id: 'o', name: 'x' }], subject: { reference: '#p' } }))).toEqual([]);
  });

  it('returns warnings as warnings: dom-6 does not make a resource invalid', () => {
    const issues = validator.validate({ resourceType: 'Patient' });
    expect(issues).toEqual([{ severity: 'warning', code: 'invariant', diagnostics: 'Constraint dom-6 not met: A resource should have narrative for robust management', expression: ['Patient'] }]);
    expect(validator.validate({ resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } })).toEqual([]);
  });

  it('words an invariant as the constraint and its human text, never with the value', () => {
    const [issue] = validator.validate(encounter({ period: { start: '2020-02-01', end: '2020-01-01' } })).filter((i) => i.severity === 'error');
    expect(issue).toEqual({ severity: 'error', code: 'invariant', diagnostics: 'Constraint per-1 not met: If present, start SHALL have a lower value than end', expression: ['Encounter.period'] });
  });
});
