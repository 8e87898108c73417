/**
 * Flint's admin and audit API over real HTTP (docs/flint-api.md), against a real
 * `flint serve` with the real keychain, as the UI uses it: an admin manages users, roles
 * and apps (and a user made this way can get a token); everyone else gets 403; the last
 * enabled admin is kept; sync settings go to the keychain and sync.json as `flint sync
 * configure` puts them; an auditor verifies the audit chain (and sees it broken after an
 * event is edited on disk) and exports exactly what the AuditEvent search finds. Every
 * error is an OperationOutcome with its status, and a refused request changes nothing.
 */
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import keytar from 'keytar';
import { hkdfSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editStoredBody } from '../../main/core/audit/__fixtures__/storage';
import { openSqlcipherFile } from '../../main/core/store/sqlcipher-file';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { forgetDataDir, getMasterKey, KEYCHAIN_SERVICE, workstationIdOf } from '../support/keychain';
import { hasOpenssl, makeTestCa, type TestCa } from '../support/tls-proxy';
import { startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
let readerToken: string;
let auditorToken: string;
const started = new Date(Date.now() - 60_000).toISOString();

interface Reply<T = unknown> {
  status: number;
  contentType: string;
  text: string;
  body: T;
}

async function api<T = unknown>(token: string, method: string, path: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(new URL(`/flint/${path}`, ws.baseUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, text, body: (/[/+]json\b/.test(contentType) && text ? JSON.parse(text) : undefined) as T };
}
const asAdmin = <T = unknown>(method: string, path: string, body?: unknown) => api<T>(ws.token, method, path, body);

/** An error answer: the status, and an OperationOutcome body. */
function expectOutcome(r: Reply, status: number, words?: RegExp): void {
  expect(r.status, r.text).toBe(status);
  expect(r.contentType).toMatch(/^application\/fhir\+json/);
  const o = r.body as OperationOutcome;
  expect(o.resourceType).toBe('OperationOutcome');
  if (words) expect(o.issue?.[0]?.diagnostics).toMatch(words);
}

const flint = async (args: string[], input?: string) => {
  const r = await runFlint([...args, '--data-dir', ws.dataDir], input === undefined ? {} : { input });
  expect(r.code, `flint ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

/** AuditEvents a FHIR search finds, all pages. */
async function search(query: string): Promise<AuditEvent[]> {
  const client = new FhirClient(ws.baseUrl, auditorToken);
  const out: AuditEvent[] = [];
  let url: string | undefined = `AuditEvent?${query}`;
  while (url) {
    const page: { status: number; body: Bundle } = await client.get<Bundle>(url);
    expect(page.status, url).toBe(200);
    out.push(...(page.body.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as AuditEvent));
    url = page.body.link?.find((l) => l.relation === 'next')?.url?.slice(ws.baseUrl.length + 1);
  }
  return out;
}

const syncPassword = () => keytar.getPassword(KEYCHAIN_SERVICE, `${workstationIdOf(ws.dataDir)}/sync-password`);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  ws = await startWorkstation();
  await flint(['user', 'add', 'rita', '--role', 'reader'], 'rita password 123\n');
  readerToken = await flint(['token', 'create', '--user', 'rita', '--scope', 'user/*.rs']);
  await flint(['user', 'add', 'aude', '--role', 'auditor'], 'aude password 123\n');
  auditorToken = await flint(['token', 'create', '--user', 'aude', '--scope', 'user/AuditEvent.rs']);
});
afterAll(async () => {
  await ws?.stop();
  if (ws) {
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${workstationIdOf(ws.dataDir)}/sync-password`).catch(() => false);
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${workstationIdOf(ws.dataDir)}/audit-head`).catch(() => false);
    await forgetDataDir(ws.dataDir);
  }
});

describe('/flint/admin', () => {
  it('an admin creates a user, who can then get a token and use it; the list never shows a password hash', async () => {
    const r = await asAdmin('POST', 'admin/users', { username: 'nina', password: 'nina password 123', roles: ['writer'], fhirUser: 'Practitioner/n1' });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toEqual({ username: 'nina', roles: ['writer'], disabled: false, fhirUser: 'Practitioner/n1' });
    const list = await asAdmin<{ users: Array<{ username: string }> }>('GET', 'admin/users');
    expect(list.status).toBe(200);
    expect(list.body.users.map((u) => u.username)).toEqual(['aude', 'nina', 'rita']);
    expect(list.text).not.toMatch(/scrypt|password/);

    const token = await flint(['token', 'create', '--user', 'nina', '--scope', 'user/*.cruds']);
    const nina = new FhirClient(ws.baseUrl, token);
    expect((await nina.put('Patient/admin-api-1', { resourceType: 'Patient', id: 'admin-api-1' })).status).toBe(201);

    // Disabled over HTTP: the token stops working at once.
    expect((await asAdmin('PATCH', 'admin/users/nina', { disabled: true })).status).toBe(200);
    expect((await nina.get('Patient/admin-api-1')).status).toBe(401);
    expect((await asAdmin('PATCH', 'admin/users/nina', { disabled: false })).status).toBe(200);
    expect((await nina.get('Patient/admin-api-1')).status).toBe(200);
  });

  it('refuses bad users with 400 in words and a taken username with 409; nothing is added', async () => {
    const before = (await asAdmin('GET', 'admin/users')).text;
    expectOutcome(await asAdmin('POST', 'admin/users', { username: 'bad name!', password: 'long enough pw', roles: ['reader'] }), 400, /username/);
    expectOutcome(await asAdmin('POST', 'admin/users', { username: 'olga', password: 'short', roles: ['reader'] }), 400, /at least 10 characters/);
    expectOutcome(await asAdmin('POST', 'admin/users', { username: 'olga', password: 'long enough pw', roles: ['surgeon'] }), 400, /Unknown roles/);
    expectOutcome(await asAdmin('POST', 'admin/users', { username: 'NINA', password: 'long enough pw', roles: ['reader'] }), 409);
    expectOutcome(await asAdmin('PATCH', 'admin/users/nobody', { disabled: true }), 404);
    expectOutcome(await asAdmin('PATCH', 'admin/users/nina', { roles: ['reader'], password: 'short' }), 400);
    expect((await asAdmin('GET', 'admin/users')).text).toBe(before);
  });

  it('a reader gets 403 (an OperationOutcome) on every admin, sync settings and audit route, and changes nothing', async () => {
    const before = (await asAdmin('GET', 'admin/users')).text;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', 'admin/users'],
      ['POST', 'admin/users', { username: 'sneaky', password: 'sneaky password 1', roles: ['admin'] }],
      ['PATCH', 'admin/users/rita', { roles: ['admin'] }],
      ['GET', 'admin/roles'],
      ['GET', 'admin/apps'],
      ['POST', 'admin/apps', { name: 'Sneaky', redirectUris: ['https://sneaky.example/cb'], scope: 'user/*.rs' }],
      ['DELETE', 'admin/apps/anything'],
      ['GET', 'sync/settings'],
      ['PUT', 'sync/settings', { remote: 'http://127.0.0.1:1/clinic', username: 'x', password: 'y' }],
      ['DELETE', 'sync/settings'],
      ['GET', 'audit/verify'],
      ['GET', 'audit/export'],
    ];
    for (const [method, path, body] of routes) expectOutcome(await api(readerToken, method, path, body), 403);
    expect((await asAdmin('GET', 'admin/users')).text).toBe(before);
    expect((await asAdmin<{ apps: unknown[] }>('GET', 'admin/apps')).body.apps).toEqual([]);
    expect(existsSync(join(ws.dataDir, 'sync.json'))).toBe(false);
  });

  it('keeps the last enabled admin: removing its admin role or disabling it is 409, until there is another', async () => {
    expect((await asAdmin('POST', 'admin/users', { username: 'root', password: 'root password 123', roles: ['admin'] })).status).toBe(201);
    expectOutcome(await asAdmin('PATCH', 'admin/users/root', { roles: ['reader'] }), 409, /last enabled administrator/);
    expectOutcome(await asAdmin('PATCH', 'admin/users/root', { disabled: true }), 409, /last enabled administrator/);
    const root = (await asAdmin<{ users: Array<{ username: string }> }>('GET', 'admin/users')).body.users.find((u) => u.username === 'root');
    expect(root).toEqual({ username: 'root', roles: ['admin'], disabled: false });
    expect((await asAdmin('POST', 'admin/users', { username: 'root2', password: 'root password 456', roles: ['admin'] })).status).toBe(201);
    const demoted = await asAdmin('PATCH', 'admin/users/root', { roles: ['reader'] });
    expect(demoted.status).toBe(200);
    expect(demoted.body).toEqual({ username: 'root', roles: ['reader'], disabled: false });
    expectOutcome(await asAdmin('PATCH', 'admin/users/root2', { disabled: true }), 409);
  });

  it('lists the roles', async () => {
    const r = await asAdmin<{ roles: Array<{ name: string; builtin: boolean; admin: boolean; permissions: unknown[] }> }>('GET', 'admin/roles');
    expect(r.status).toBe(200);
    expect(r.body.roles.map((x) => x.name)).toEqual(expect.arrayContaining(['reader', 'writer', 'contributor', 'exporter', 'importer', 'auditor', 'admin']));
    expect(r.body.roles.find((x) => x.name === 'auditor')).toEqual({
      name: 'auditor',
      description: 'Read AuditEvents only',
      builtin: true,
      admin: false,
      permissions: [{ types: ['AuditEvent'], interactions: ['read', 'search'] }],
    });
  });

  it('registers a SMART app and a backend service, refuses what flint app add refuses, and revokes', async () => {
    const app = await asAdmin<{ clientId: string }>('POST', 'admin/apps', { name: 'Charts', redirectUris: ['https://charts.example/callback'], scope: 'openid fhirUser user/*.rs' });
    expect(app.status, app.text).toBe(201);
    expect(app.body).toMatchObject({ name: 'Charts', redirectUris: ['https://charts.example/callback'], origins: ['https://charts.example'], scope: 'openid fhirUser user/*.rs', role: null, revoked: false, kind: 'public' });
    expect(app.body.clientId).toMatch(/^[A-Za-z0-9._~-]+$/);
    // The app's origin is now one CORS allows.
    const cors = await fetch(new URL('/fhir/metadata', ws.baseUrl), { headers: { origin: 'https://charts.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://charts.example');

    const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'svc-1' };
    const svc = await asAdmin('POST', 'admin/apps', { name: 'Lab feed', jwks: { keys: [jwk] }, scope: 'system/Observation.rs', role: 'reader' });
    expect(svc.status, svc.text).toBe(201);
    expect(svc.body).toMatchObject({ kind: 'backend', role: 'reader', jwks: { keys: [jwk] } });

    const before = (await asAdmin('GET', 'admin/apps')).text;
    expectOutcome(await asAdmin('POST', 'admin/apps', { name: 'Plain', redirectUris: ['http://charts.example/cb'], scope: 'user/*.rs' }), 400, /loopback/);
    expectOutcome(await asAdmin('POST', 'admin/apps', { name: 'NoRole', jwks: { keys: [jwk] }, scope: 'system/*.rs' }), 400, /role/);
    expectOutcome(await asAdmin('POST', 'admin/apps', { name: 'Leaky', jwks: { keys: [{ ...jwk, d: 'private' }] }, scope: 'system/*.rs', role: 'reader' }), 400, /public keys only/);
    expectOutcome(await asAdmin('POST', 'admin/apps', { name: 'Dup', redirectUris: ['https://dup.example/cb'], scope: 'user/*.rs', clientId: app.body.clientId }), 409);
    expect((await asAdmin('GET', 'admin/apps')).text).toBe(before);

    const revoked = await asAdmin('DELETE', `admin/apps/${app.body.clientId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ clientId: app.body.clientId, revoked: true });
    expectOutcome(await asAdmin('DELETE', 'admin/apps/no-such-app'), 404);
    const after = await fetch(new URL('/fhir/metadata', ws.baseUrl), { headers: { origin: 'https://charts.example' } });
    expect(after.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('records every change in the audit trail with the acting admin', async () => {
    const changes = await search(`subtype=user-changed,app-registered,app-revoked&date=ge${started}&_count=100`);
    const kinds = (e: AuditEvent) => e.subtype?.filter((c) => c.system === 'urn:flint:audit-subtype').map((c) => c.code);
    const what = changes.map((e) => `${kinds(e)?.join()} ${e.entity?.[0]?.what?.identifier?.value} ${e.outcomeDesc ?? ''}`);
    for (const want of [/^user-changed nina added with roles writer$/, /^user-changed nina disabled$/, /^user-changed root roles reader$/, /^app-registered \S+ $/, /^app-revoked \S+ $/]) {
      expect(what.some((w) => want.test(w)), `${want} in ${what.join('; ')}`).toBe(true);
    }
    // The acting admin (here `flint token create`'s token: the client flint-cli, from 127.0.0.1).
    // (rita and aude were added by `flint user add`, which records no agent.)
    const overHttp = changes.filter((e) => !['rita', 'aude'].includes(e.entity?.[0]?.what?.identifier?.value ?? ''));
    expect(overHttp.length).toBeGreaterThanOrEqual(5);
    expect(overHttp.every((e) => e.agent?.some((a) => a.who?.identifier?.value === 'flint-cli' && a.network?.address === '127.0.0.1'))).toBe(true);
    expect(JSON.stringify(changes)).not.toMatch(/password 123/);
  });
});

describe('/flint/sync/settings', () => {
  let ca: TestCa | undefined;
  afterAll(() => ca?.close());

  it('PUT keeps the password in the keychain, not in sync.json; GET never shows it; a bad PUT changes nothing; DELETE removes it all', async () => {
    expect((await asAdmin('GET', 'sync/settings')).body).toEqual({ configured: false });
    const secret = `Sync-${Math.random().toString(36).slice(2)}-pw`;
    const remote = `http://127.0.0.1:${await closedPort()}/clinic`;
    if (hasOpenssl()) ca = makeTestCa();
    const caPem = ca ? readFileSync(ca.caFile, 'utf8') : undefined;
    const put = await asAdmin('PUT', 'sync/settings', { remote: `${remote}/`, username: 'ws-front', password: secret, ...(caPem ? { caPem } : {}) });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({ configured: true, remote, username: 'ws-front', auditRemote: `${remote}-audit`, paused: false, maxRetryDelaySeconds: 60, customCa: caPem !== undefined });
    expect(put.text).not.toContain(secret);

    const file = readFileSync(join(ws.dataDir, 'sync.json'), 'utf8');
    expect(file).not.toContain(secret);
    expect(JSON.parse(file)).toMatchObject({ remote, username: 'ws-front' });
    expect(await syncPassword()).toBe(secret);
    if (caPem) expect(readFileSync(join(ws.dataDir, 'sync-ca.pem'), 'utf8')).toBe(caPem);

    const got = await asAdmin('GET', 'sync/settings');
    expect(got.body).toEqual(put.body);
    expect(got.text).not.toContain(secret);
    // The running engine took it up: configured, and (nobody listening there) not syncing.
    const status = await asAdmin<{ configured: boolean; remote: string }>('GET', 'sync');
    expect(status.body).toMatchObject({ configured: true, remote });

    // Refused: a URL with credentials, a missing password, an unknown member, no PEM. Nothing changes.
    expectOutcome(await asAdmin('PUT', 'sync/settings', { remote: 'http://u:p@127.0.0.1:1/clinic', username: 'other', password: 'other-pw' }), 400, /not in the URL/);
    expectOutcome(await asAdmin('PUT', 'sync/settings', { remote, username: 'other' }), 400, /password/);
    expectOutcome(await asAdmin('PUT', 'sync/settings', { remote, username: 'other', password: 'other-pw', caFile: '/etc/passwd' }), 400, /Unknown member/);
    expectOutcome(await asAdmin('PUT', 'sync/settings', { remote, username: 'other', password: 'other-pw', caPem: 'not a certificate' }), 400, /PEM/);
    expect(readFileSync(join(ws.dataDir, 'sync.json'), 'utf8')).toBe(file);
    expect(await syncPassword()).toBe(secret);

    const removed = await asAdmin('DELETE', 'sync/settings');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ configured: false });
    expect(existsSync(join(ws.dataDir, 'sync.json'))).toBe(false);
    expect(existsSync(join(ws.dataDir, 'sync-ca.pem'))).toBe(false);
    expect(await syncPassword()).toBeNull();
    expect((await asAdmin<{ configured: boolean }>('GET', 'sync')).body.configured).toBe(false);

    // Audited as settings changes, without the password.
    const changes = await search(`subtype=settings-changed&date=ge${started}`);
    expect(changes.map((e) => e.outcomeDesc)).toEqual(expect.arrayContaining([`sync configured: ${remote} as ws-front`, 'sync removed']));
    expect(JSON.stringify(changes)).not.toContain(secret);
  });
});

describe('/flint/audit and the AuditEvent search', () => {
  let patientId: string;

  beforeAll(async () => {
    // Nina creates a patient, reads it three times and reads its history.
    const nina = new FhirClient(ws.baseUrl, await flint(['token', 'create', '--user', 'nina', '--scope', 'user/*.cruds']));
    const p = await nina.post<{ id: string }>('Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] });
    patientId = p.body.id;
    for (let i = 0; i < 3; i++) expect((await nina.get(`Patient/${patientId}`)).status).toBe(200);
    expect((await nina.get(`Patient/${patientId}/_history`)).status).toBe(200);
  });

  it('the search the audit viewer uses works for an auditor: user, patient, action, outcome, date range, newest first', async () => {
    const q = `agent-name=nina&patient=Patient/${patientId}&action=R&outcome=0&date=ge${started}&date=le2999-12-31&_sort=-date&_count=50`;
    const found = await search(q);
    expect(found.length).toBe(4); // three reads and the history
    expect(found.every((e) => e.action === 'R' && e.outcome === '0' && e.agent?.some((a) => a.name === 'nina'))).toBe(true);
    const times = found.map((e) => e.recorded!);
    expect([...times].sort().reverse()).toEqual(times);
    // By app instead of user: the client's identifier.
    const byApp = await search(`agent:identifier=urn:flint:client|flint-cli&patient=Patient/${patientId}&action=R`);
    expect(byApp.map((e) => e.id).sort()).toEqual(found.map((e) => e.id).sort());
    // The admin reads the trail too (the audit viewer is for auditors and admins).
    expect((await ws.client().get('AuditEvent?_count=1')).status).toBe(200);
  });

  it('export: NDJSON lines equal the AuditEvent search results for the same filter, oldest first, and the export is recorded', async () => {
    const filter = `agent-name=nina&patient=Patient/${patientId}&date=ge${started}`;
    const searched = await search(`${filter}&_count=2`);
    expect(searched.length).toBeGreaterThanOrEqual(5); // the create, three reads, the history
    const r = await api(auditorToken, 'GET', `audit/export?${filter}&_sort=-date&_count=50`);
    expect(r.status, r.text).toBe(200);
    expect(r.contentType).toBe('application/fhir+ndjson');
    expect(r.text.endsWith('\n')).toBe(true);
    const exported = r.text.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    const byId = (a: AuditEvent, b: AuditEvent) => (a.id! < b.id! ? -1 : 1);
    expect([...exported].sort(byId)).toEqual([...searched].sort(byId));
    const times = exported.map((e) => e.recorded!);
    expect([...times].sort()).toEqual(times);

    const recorded = await search(`subtype=urn:flint:audit-subtype|%24audit-export&agent-name=aude&patient=Patient/${patientId}`);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.outcome).toBe('0');
    expect(Buffer.from(recorded[0]!.entity!.find((x) => x.query)!.query!, 'base64').toString()).toContain('agent-name=nina');

    expectOutcome(await api(auditorToken, 'GET', 'audit/export?nonsense=1'), 400, /nonsense/);
    expectOutcome(await api(auditorToken, 'GET', 'audit/export?date=yesterday'), 400);
    expectOutcome(await api(auditorToken, 'GET', 'audit/export?_include=AuditEvent:agent'), 400);
    // The admin may export too; a reader may not.
    expect((await api(ws.token, 'GET', `audit/export?${filter}`)).status).toBe(200);
  });

  it('verify: ok on the trail as written; a problem naming the event once one is edited on disk', async () => {
    const ok = await api<{ ok: boolean; events: number; checkedAt: string }>(auditorToken, 'GET', 'audit/verify');
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    expect(ok.body.events).toBeGreaterThan(10);
    expect(Date.parse(ok.body.checkedAt)).toBeGreaterThan(Date.parse(started));
    expect((await api(ws.token, 'GET', 'audit/verify')).status).toBe(200); // admins too
    expectOutcome(await api(readerToken, 'GET', 'audit/verify'), 403);

    // What someone with the key and a SQLite shell can do, with the server stopped.
    await ws.stop();
    const master = Buffer.from((await getMasterKey(ws.dataDir))!, 'base64');
    const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'flint/v1/audit', 32));
    const db = openSqlcipherFile(join(ws.dataDir, 'audit.db'), key, { synchronous: 'FULL', what: 'the test' });
    try {
      editStoredBody(db, 3, (body) => {
        const changed = body.replace(/"outcome":"\d"/, '"outcome":"8"');
        expect(changed).not.toBe(body);
        return changed;
      });
    } finally {
      db.close();
    }
    ws = await startWorkstation({ dataDir: ws.dataDir });
    const broken = await api<{ ok: boolean; seq: number; problem: string }>(auditorToken, 'GET', 'audit/verify');
    expect(broken.status).toBe(200);
    expect(broken.body).toMatchObject({ ok: false, seq: 3 });
    expect(broken.body.problem).toMatch(/^event 3: .*hash/);
    expect(broken.text).not.toMatch(/Patient/);
  });
});
