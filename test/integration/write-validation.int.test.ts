/**
 * The cases at the top of issue 12, as a new user tried them over HTTP: each was stored
 * with 201 before. Each must now be a 400 OperationOutcome naming the element, and the
 * rejected write must leave nothing behind (no resource, no version in history).
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { workstationForFile } from '../support/workstation';

const t = workstationForFile();

const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';
const patient = (extra: Record<string, unknown>) => ({ resourceType: 'Patient', name: [{ family: 'Valid' }], ...extra });
const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, ...extra });

async function systemHistoryTotal(): Promise<number> {
  return (await t.c.get<Bundle>('_history?_count=0')).body.total ?? -1;
}

/** PUT at a fresh id must be refused with 400 naming `path`, and change nothing. */
async function refused(type: string, id: string, body: Record<string, unknown>, path: string): Promise<OperationOutcome> {
  const before = await systemHistoryTotal();
  const res = await t.c.put<OperationOutcome>(`${type}/${id}`, { ...body, id });
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(400);
  expect(res.body.resourceType).toBe('OperationOutcome');
  const errors = res.body.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  expect(errors.flatMap((i) => i.expression ?? [])).toContain(path);
  for (const i of errors) expect(i.diagnostics ?? i.details?.text, 'every error says what is wrong').toBeTruthy();
  expect((await t.c.get(`${type}/${id}`)).status).toBe(404);
  expect(await systemHistoryTotal()).toBe(before);
  return res.body;
}

describe('writes that were stored with 201 and are invalid R4', () => {
  it('Patient.gender "banana" (required binding)', async () => {
    await refused('Patient', 'v-gender', patient({ gender: 'banana' }), 'Patient.gender');
  });

  it('Observation.status "bogus" (required binding)', async () => {
    await refused('Observation', 'v-status', observation({ status: 'bogus' }), 'Observation.status');
  });

  it('"name": [] (FHIR JSON has no empty arrays)', async () => {
    await refused('Patient', 'v-empty', patient({ name: [] }), 'Patient.name');
  });

  it('a narrative with <script>, an onclick attribute, or plain text (txt-1, txt-2)', async () => {
    const div = (d: string) => patient({ text: { status: 'generated', div: d } });
    await refused('Patient', 'v-script', div(`<div ${XHTML}><p>Ann</p><script>alert(1)</script></div>`), 'Patient.text.div');
    await refused('Patient', 'v-onclick', div(`<div ${XHTML}><p onclick="steal()">Ann</p></div>`), 'Patient.text.div');
    await refused('Patient', 'v-plain', div('Ann Valid, born 1970'), 'Patient.text.div');
  });

  it('an Encounter whose period starts after it ends (per-1, an invariant of a data type)', async () => {
    const encounter = { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } };
    await refused('Encounter', 'v-period', { ...encounter, period: { start: '2024-02-01', end: '2024-01-01' } }, 'Encounter.period');
    // The same Encounter the right way round is stored.
    expect((await t.c.put('Encounter/v-period-ok', { ...encounter, id: 'v-period-ok', period: { start: '2024-01-01', end: '2024-02-01' } })).status).toBe(201);
  });

  it('a Quantity with a code but no system (qty-3) and an Attachment with data but no contentType (att-1)', async () => {
    await refused('Observation', 'v-qty', observation({ valueQuantity: { value: 5, code: 'mg' } }), 'Observation.valueQuantity');
    await refused('Observation', 'v-att', observation({ valueAttachment: { data: 'aGVsbG8=' } }), 'Observation.valueAttachment');
  });

  it('an id that breaks the id rule ([A-Za-z0-9-.]{1,64})', async () => {
    // A create ignores a well-formed client id, but a malformed one makes the resource invalid.
    const long = await t.c.post<OperationOutcome>('Patient', patient({ id: 'x'.repeat(65) }));
    expect(long.status).toBe(400);
    expect(long.body.issue.flatMap((i) => i.expression ?? [])).toContain('Patient.id');
    const bad = await t.c.put<OperationOutcome>('Patient/has%20space', { ...patient({}), id: 'has space' });
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect((await t.c.get<Bundle>('Patient?_count=0')).body.total).toBe(0);
  });

  it('a transaction that conditionally updates and conditionally creates the same identifier fails whole', async () => {
    const before = await systemHistoryTotal();
    const ident = { system: 'urn:test:mrn', value: 'overlap-1' };
    const res = await t.c.post<OperationOutcome>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient({ identifier: [ident] }), request: { method: 'PUT', url: 'Patient?identifier=urn:test:mrn|overlap-1' } },
        { resource: patient({ identifier: [ident] }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test:mrn|overlap-1' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await systemHistoryTotal()).toBe(before);
    expect((await t.c.get<Bundle>('Patient?identifier=urn:test:mrn|overlap-1')).body.total ?? 0).toBe(0);
  });
});
