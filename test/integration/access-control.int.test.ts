/**
 * Access control over HTTP against a real workstation: tokens minted by the CLI as an
 * integrator would (`flint token create`, for the administrator or `--user`), users and
 * roles made with `flint user`. Every rule of the access-control design has a negative
 * case here: no token, a bad or expired token, a wrong role, a wrong scope, a patient
 * scope reaching outside its patient (403 whether or not the resource exists), a
 * transaction with one forbidden entry (nothing stored), a disabled user, admin-only
 * operations, AuditEvent outside every role but the auditor's and the admin's, foreign Host, foreign Origin.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { originOf, rawRequest } from '../support/raw-http';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
let admin: FhirClient;

const flint = async (args: string[], input?: string) => {
  const r = await runFlint([...args, '--data-dir', ws.dataDir], input === undefined ? {} : { input });
  expect(r.code, `flint ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const tokenFor = (scope: string, extra: string[] = []) => flint(['token', 'create', '--scope', scope, ...extra]);
const as = async (scope: string, extra: string[] = []) => new FhirClient(ws.baseUrl, await tokenFor(scope, extra));

const expectDenied = (r: { status: number; body: unknown }, status = 403) => {
  expect(r.status).toBe(status);
  expect((r.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  return JSON.stringify(r.body);
};

beforeAll(async () => {
  ws = await startWorkstation();
  admin = ws.client();
  for (const [id, family] of [['p1', 'One'], ['p2', 'Two']] as const) {
    expect((await admin.put(`Patient/${id}`, { resourceType: 'Patient', id, name: [{ family }] })).status).toBe(201);
  }
  await admin.put('Practitioner/dr', { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Doc' }] });
  for (const [id, subject] of [['o1', 'p1'], ['o2', 'p2']] as const) {
    await admin.put(`Observation/${id}`, {
      resourceType: 'Observation', id, status: 'final', code: { text: 'x' },
      subject: { reference: `Patient/${subject}` }, performer: [{ reference: 'Practitioner/dr' }],
    }); // prettier-ignore
  }
});
afterAll(async () => {
  await ws?.stop();
  removeDir(ws.dataDir);
});

describe('authentication', () => {
  it('refuses requests without a valid token, except the public discovery documents', async () => {
    const anon = new FhirClient(ws.baseUrl);
    const none = await anon.get('Patient/p1');
    expectDenied(none, 401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectDenied(await new FhirClient(ws.baseUrl, 'not-a-token').get('Patient/p1'), 401);
    expectDenied(await new FhirClient(ws.baseUrl, `${ws.token.slice(0, -4)}AAAA`).get('Patient/p1'), 401);
    expect((await anon.get('metadata')).status).toBe(200);
    const smart = await anon.get<Record<string, unknown>>('.well-known/smart-configuration');
    expect(smart.status).toBe(200);
    expect(smart.body.token_endpoint).toMatch(/\/auth\/token$/);
  });

  it('refuses an expired token', async () => {
    // 15 s: time for the CLI to exit and the first request to be answered on a loaded machine.
    const short = await as('user/*.rs', ['--ttl', '15s']);
    // Taken after the CLI returned: the token's exp is at most 15 s after this.
    const minted = Date.now();
    expect((await short.get('Patient/p1')).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, minted + 16_000 - Date.now())));
    expectDenied(await short.get('Patient/p1'), 401);
  });

  it('stops a user token once the user is disabled', async () => {
    await flint(['user', 'add', 'dana', '--role', 'reader'], 'dana password 123\n');
    const dana = await as('user/*.rs', ['--user', 'dana']);
    expect((await dana.get('Patient/p1')).status).toBe(200);
    await flint(['user', 'disable', 'dana']);
    expectDenied(await dana.get('Patient/p1'), 401);
  });
});

describe('roles and scopes', () => {
  it('a reader reads and searches but cannot write, whatever its scopes', async () => {
    await flint(['user', 'add', 'rita', '--role', 'reader'], 'rita password 123\n');
    const rita = await as('user/*.cruds', ['--user', 'rita']);
    expect((await rita.get('Patient/p1')).status).toBe(200);
    expect((await rita.get<Bundle>('Observation')).body.total).toBe(2);
    expectDenied(await rita.post('Patient', { resourceType: 'Patient' }));
    expectDenied(await rita.delete('Patient/p1'));
    expect((await admin.get('Patient/p1')).status).toBe(200);
  });

  it('a custom role allows exactly its types and interactions', async () => {
    await flint(['user', 'role-add', 'lab', '--allow', 'Observation:read,search,create']);
    await flint(['user', 'add', 'lena', '--role', 'lab'], 'lena password 123\n');
    const lena = await as('user/*.cruds', ['--user', 'lena']);
    expect((await lena.get('Observation/o1')).status).toBe(200);
    expect((await lena.post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'lab' } })).status).toBe(201);
    expectDenied(await lena.get('Patient/p1'));
    expectDenied(await lena.put('Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'amended', code: { text: 'x' } }));
  });

  it('scopes narrow an administrator: type and interaction', async () => {
    const patientsOnly = await as('user/Patient.rs');
    expect((await patientsOnly.get('Patient/p1')).status).toBe(200);
    expectDenied(await patientsOnly.get('Observation/o1'));
    expectDenied(await patientsOnly.get('Observation'));
    expectDenied(await patientsOnly.post('Patient', { resourceType: 'Patient' }));
    // _include of a type the scopes do not cover is left out, not leaked.
    const inc = await patientsOnly.get<Bundle>('Patient?_id=p1&_revinclude=Observation:subject');
    expect(inc.status).toBe(200);
    expect(inc.body.entry?.map((e) => e.resource!.resourceType)).toEqual(['Patient']);
    // System search keeps to the types the caller may search.
    const sys = await patientsOnly.get<Bundle>('?_type=Patient,Observation');
    expect(new Set(sys.body.entry?.map((e) => e.resource!.resourceType))).toEqual(new Set(['Patient']));
  });

  it('a v2 scope with a query restriction sees only matching resources', async () => {
    await admin.put('Observation/o3', {
      resourceType: 'Observation', id: 'o3', status: 'preliminary', code: { text: 'y' }, subject: { reference: 'Patient/p1' },
    }); // prettier-ignore
    const preliminaryOnly = await as('user/Observation.rs?status=preliminary');
    const found = await preliminaryOnly.get<Bundle>('Observation');
    expect(found.body.entry?.map((e) => e.resource!.id)).toEqual(['o3']);
    expect((await preliminaryOnly.get('Observation/o3')).status).toBe(200);
    expectDenied(await preliminaryOnly.get('Observation/o1'));
    const unsupported = await as('user/Observation.rs?no-such-param=1');
    expectDenied(await unsupported.get('Observation/o3')); // a restriction that cannot be evaluated grants nothing
    await admin.delete('Observation/o3');
  });

  it('AuditEvent is outside every role but the auditor\'s and the admin\'s, and $reindex needs an admin', async () => {
    await flint(['user', 'add', 'carl', '--role', 'contributor'], 'carl password 123\n');
    await flint(['user', 'add', 'aude', '--role', 'auditor'], 'aude password 123\n');
    const carl = await as('user/*.cruds', ['--user', 'carl']);
    const aude = await as('user/*.rs', ['--user', 'aude']);
    expectDenied(await carl.get('AuditEvent'));
    expect((await aude.get('AuditEvent')).status).toBe(200);
    expectDenied(await aude.get('Patient/p1'));
    expectDenied(await carl.post('$reindex', undefined));
  });
});

describe('patient-confined tokens', () => {
  let p1: FhirClient;
  beforeAll(async () => {
    p1 = await as('patient/*.rs patient/Observation.cu', ['--patient', 'p1']);
  });

  it('read their patient and its compartment; elsewhere 403 whether or not the resource exists', async () => {
    expect((await p1.get('Patient/p1')).status).toBe(200);
    expect((await p1.get('Observation/o1')).status).toBe(200);
    const other = expectDenied(await p1.get('Patient/p2'));
    const missing = expectDenied(await p1.get('Patient/no-such-patient'));
    expect(missing).toBe(other);
    expectDenied(await p1.get('Observation/o2'));
    expectDenied(await p1.get('Patient/p2/_history'));
    expectDenied(await p1.get('Patient/p2/$everything'));
  });

  it('searches see only the compartment; includes outside it are dropped', async () => {
    const obs = await p1.get<Bundle>('Observation?_include=Observation:performer');
    expect(obs.body.total).toBe(1);
    expect(obs.body.entry?.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)).toEqual(['Observation/o1']);
    expect((await p1.get<Bundle>('Patient')).body.entry?.map((e) => e.resource!.id)).toEqual(['p1']);
    const everything = await p1.get<Bundle>('Patient/p1/$everything');
    expect(everything.status).toBe(200);
    expect(everything.body.entry?.map((e) => e.resource!.resourceType).sort()).toEqual(['Observation', 'Patient']);
  });

  it('write only inside the compartment, and a transaction with one forbidden entry stores nothing', async () => {
    const mine = { resourceType: 'Observation', status: 'final', code: { text: 'mine' }, subject: { reference: 'Patient/p1' } };
    expect((await p1.post('Observation', mine)).status).toBe(201);
    expectDenied(await p1.post('Observation', { ...mine, subject: { reference: 'Patient/p2' } }));
    // Moving o1 to another patient is refused (the new content leaves the compartment).
    expectDenied(await p1.put('Observation/o1', { ...mine, id: 'o1', subject: { reference: 'Patient/p2' } }));
    expectDenied(await p1.post('Patient', { resourceType: 'Patient' }));
    const before = (await admin.get<Bundle>('Observation?_summary=count')).body.total;
    const tx = await p1.post<Resource>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...mine, code: { text: 'tx-ok' } }, request: { method: 'POST', url: 'Observation' } },
        { resource: { ...mine, subject: { reference: 'Patient/p2' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(tx.status).toBe(403);
    expect((await admin.get<Bundle>('Observation?_summary=count')).body.total).toBe(before);
    expectDenied(await p1.delete('Observation/o1')); // no d in its scopes
  });
});

describe('the localhost edge', () => {
  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    const origin = originOf(ws.baseUrl);
    const auth = { authorization: `Bearer ${ws.token}` };
    const rebound = await rawRequest(origin, { method: 'GET', path: '/fhir/Patient/p1', headers: { ...auth, host: 'evil.example:80' } });
    expect(rebound.status).toBe(421);
    const port = new URL(origin).port;
    expect((await rawRequest(origin, { method: 'GET', path: '/fhir/Patient/p1', headers: { ...auth, host: `localhost:${port}` } })).status).toBe(200);
    const foreign = await rawRequest(origin, { method: 'GET', path: '/fhir/Patient/p1', headers: { ...auth, origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    await flint(['app', 'add', '--name', 'Chart', '--redirect-uri', 'http://127.0.0.1:4999/cb', '--scope', 'openid user/*.rs']);
    const allowed = await rawRequest(origin, { method: 'GET', path: '/fhir/Patient/p1', headers: { ...auth, origin: 'http://127.0.0.1:4999' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://127.0.0.1:4999');
    for (const h of ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'referrer-policy']) expect(rebound.headers[h], h).toBeDefined();
  });
});
