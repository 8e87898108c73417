/**
 * Custom SearchParameter resources: stored like any resource, unused until a reindex
 * (POST [base]/$reindex, or `flint reindex` on a stopped data dir), then searchable,
 * listed in the CapabilityStatement, applied to later writes, and kept across restarts.
 */
import type { Bundle, CapabilityStatement, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

const EYE = 'http://example.org/fhir/StructureDefinition/eye-colour';
const searchParameter = {
  resourceType: 'SearchParameter',
  url: 'http://example.org/fhir/SearchParameter/patient-eye-colour',
  name: 'EyeColour',
  status: 'active',
  description: 'Eye colour recorded in an extension',
  code: 'eye-colour',
  base: ['Patient'],
  type: 'token',
  expression: `Patient.extension.where(url='${EYE}').value`,
};
const patient = (colour: string): Patient => ({
  resourceType: 'Patient',
  extension: [{ url: EYE, valueCode: colour }],
  name: [{ family: 'Custom' }],
});

describe('custom search parameters', () => {
  const dataDir = tempDataDir('flint-custom-sp-');
  let ws: RunningWorkstation | undefined;
  afterAll(async () => {
    await ws?.stop();
    removeDir(dataDir);
  });
  const count = async (c: FhirClient, q: string, headers?: Record<string, string>) => c.get<Bundle>(`${q}&_summary=count`, headers);

  it('are searchable only after $reindex, then on every later write and after a restart', async () => {
    ws = await startWorkstation({ dataDir });
    let c = ws.client();
    for (const colour of ['blue', 'blue', 'brown']) expect((await c.post('Patient', patient(colour))).status).toBe(201);
    expect((await c.post('SearchParameter', searchParameter)).status).toBe(201);
    // A second one that cannot be used: reported by $reindex, never applied.
    expect((await c.post('SearchParameter', { ...searchParameter, url: 'http://example.org/sp/bad', code: 'bad', expression: 'Patient.(((' })).status).toBe(201);

    // Before the reindex the parameter is unknown: strict refuses, lenient ignores and says so.
    expect((await count(c, 'Patient?eye-colour=blue', { prefer: 'handling=strict' })).status).toBe(400);
    const lenient = await count(c, 'Patient?eye-colour=blue');
    expect(lenient.body.total).toBe(3);

    const re = await c.post<OperationOutcome>('$reindex', undefined);
    expect(re.status).toBe(200);
    const said = (re.body.issue ?? []).map((i) => i.diagnostics).join('\n');
    expect(said).toMatch(/in use: eye-colour/);
    expect(said).toMatch(/not used: the expression is not valid FHIRPath/);

    expect((await count(c, 'Patient?eye-colour=blue', { prefer: 'handling=strict' })).body.total).toBe(2);
    expect((await count(c, 'Patient?eye-colour=brown')).body.total).toBe(1);
    const cs = (await c.get<CapabilityStatement>('metadata')).body;
    const params = cs.rest![0]!.resource!.find((r) => r.type === 'Patient')!.searchParam!.map((p) => p.name);
    expect(params).toContain('eye-colour');
    expect(params).not.toContain('bad');

    // Writes after the reindex are indexed with it.
    await c.post('Patient', patient('blue'));
    expect((await count(c, 'Patient?eye-colour=blue')).body.total).toBe(3);

    // A restart keeps the parameters the index was built with.
    await ws.stop();
    ws = await startWorkstation({ dataDir });
    c = ws.client();
    expect((await count(c, 'Patient?eye-colour=blue', { prefer: 'handling=strict' })).body.total).toBe(3);

    // Changing the definition takes effect at the next reindex, here `flint reindex` offline.
    const sp = (await c.get<Bundle>('SearchParameter?code=eye-colour')).body.entry![0]!.resource!;
    await c.put(`SearchParameter/${sp.id}`, { ...sp, code: 'iris' });
    expect((await count(c, 'Patient?iris=blue', { prefer: 'handling=strict' })).status).toBe(400);
    await ws.stop();
    ws = undefined;
    const offline = await runFlint(['reindex', '--data-dir', dataDir]);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(/Custom search parameters in use: iris/);
    ws = await startWorkstation({ dataDir });
    c = ws.client();
    expect((await count(c, 'Patient?iris=blue', { prefer: 'handling=strict' })).body.total).toBe(3);
    expect((await count(c, 'Patient?eye-colour=blue', { prefer: 'handling=strict' })).status).toBe(400);
  });
});
