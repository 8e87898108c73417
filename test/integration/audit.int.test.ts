/**
 * The audit trail over HTTP against a real workstation: every kind of interaction leaves
 * exactly the expected AuditEvent(s) (BALP codes, action, outcome, agent, entities), found
 * by an auditor through FHIR search; denied and unauthenticated attempts are recorded;
 * nothing writes an AuditEvent through the API; and when the audit log cannot be written
 * (another process holds its write lock for longer than the journal may wait), data is
 * neither returned nor written, while what was answered before is kept.
 */
import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import Database from 'better-sqlite3-multiple-ciphers';
import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { getMasterKey } from '../support/keychain';
import { runFlint } from '../support/flint-process';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
let admin: FhirClient;
let auditor: FhirClient;

const flint = async (args: string[], input?: string) => {
  const r = await runFlint([...args, '--data-dir', ws.dataDir], input === undefined ? {} : { input });
  expect(r.code, `flint ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

/** AuditEvents matching a query, all pages. */
async function events(query: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let url: string | undefined = `AuditEvent?${query}&_count=200`;
  while (url) {
    const page: { status: number; body: Bundle } = await auditor.get<Bundle>(url);
    expect(page.status, url).toBe(200);
    out.push(...(page.body.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as AuditEvent));
    url = page.body.link?.find((l) => l.relation === 'next')?.url?.slice(ws.baseUrl.length + 1);
  }
  return out;
}

const subtype = (e: AuditEvent) => e.subtype?.map((c) => c.code);
const refs = (e: AuditEvent) => (e.entity ?? []).map((x) => x.what?.reference).filter(Boolean);

beforeAll(async () => {
  ws = await startWorkstation();
  admin = ws.client();
  await flint(['user', 'add', 'aude', '--role', 'auditor'], 'aude password 123\n');
  auditor = new FhirClient(ws.baseUrl, await flint(['token', 'create', '--user', 'aude', '--scope', 'user/AuditEvent.rs']));
});
afterAll(async () => {
  await ws?.stop();
  removeDir(ws.dataDir);
});

describe('what is recorded', () => {
  it('create, read, vread, update, patch, delete: one event each with the right codes', async () => {
    const created = await admin.post<Patient>('Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] });
    const id = created.body.id!;
    const ref = `Patient/${id}`;
    await admin.get(ref);
    await admin.get(`${ref}/_history/${created.body.meta!.versionId}`);
    await admin.put(ref, { resourceType: 'Patient', id, name: [{ family: 'Audited', given: ['Ann'] }] });
    await admin.patch(ref, [{ op: 'add', path: '/gender', value: 'female' }], { 'content-type': 'application/json-patch+json' });
    await admin.delete(ref);
    const found = await events(`entity=${ref}&_sort=date`);
    expect(found.map((e) => [subtype(e)?.[0], e.action, e.outcome])).toEqual([
      ['create', 'C', '0'],
      ['read', 'R', '0'],
      ['vread', 'R', '0'],
      ['update', 'U', '0'],
      ['patch', 'U', '0'],
      ['delete', 'D', '0'],
    ]);
    for (const e of found) {
      expect(e.type?.code).toBe('rest');
      expect(e.agent?.some((a) => a.who?.identifier?.value === 'flint-cli')).toBe(true);
      expect(e.agent?.some((a) => a.network?.address === '127.0.0.1')).toBe(true);
      expect(e.source?.observer?.identifier?.value).toBeTruthy();
    }
    // BALP's patient entity: the same events by patient.
    expect((await events(`patient=${ref}`)).length).toBeGreaterThanOrEqual(5);
  });

  it('search and history record the query and the patients whose data was returned', async () => {
    const p = await admin.post<Patient>('Patient', { resourceType: 'Patient', name: [{ family: 'Searched' }] });
    await admin.post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p.body.id}` } });
    await admin.get('Observation?code:text=x');
    const found = (await events('subtype=search-type')).filter((e) => e.entity?.some((x) => x.query));
    const mine = found.find((e) => Buffer.from(e.entity!.find((x) => x.query)!.query!, 'base64').toString().includes('code%3Atext=x'));
    expect(mine, 'the search event with its query').toBeDefined();
    expect(refs(mine!)).toContain(`Patient/${p.body.id}`);
    await admin.get(`Patient/${p.body.id}/_history`);
    expect((await events(`subtype=history-instance&patient=Patient/${p.body.id}`)).length).toBe(1);
  });

  it('batch, transaction, $everything and $validate', async () => {
    const tx = await admin.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:a', resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] }, request: { method: 'POST', url: 'Patient' } }],
    });
    const txId = /Patient\/([^/]+)/.exec(tx.body.entry![0]!.response!.location!)![1]!;
    expect((await events('subtype=transaction')).map((e) => e.action)).toContain('E');
    expect((await events(`entity=Patient/${txId}&subtype=create`)).length).toBe(1);
    await admin.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${txId}` } }] });
    expect((await events('subtype=batch')).length).toBeGreaterThanOrEqual(1);
    expect((await events(`entity=Patient/${txId}&subtype=read`)).length).toBe(1);
    await admin.get(`Patient/${txId}/$everything`);
    const everything = await events(`subtype=operation&patient=Patient/${txId}`);
    expect(everything.map((e) => e.action)).toEqual(['E']);
    await admin.post('Patient/$validate', { resourceType: 'Patient' });
    expect((await events('subtype=operation&entity-type=2')).length).toBeGreaterThanOrEqual(1);
  });

  it('denied and unauthenticated attempts, with their outcome', async () => {
    await flint(['user', 'add', 'rudi', '--role', 'reader'], 'rudi password 123\n');
    const rudi = new FhirClient(ws.baseUrl, await flint(['token', 'create', '--user', 'rudi', '--scope', 'user/*.cruds']));
    expect((await rudi.post('Patient', { resourceType: 'Patient' })).status).toBe(403);
    const denied = await events('outcome=4&subtype=create');
    expect(denied.some((e) => e.agent?.some((a) => a.who?.display === 'rudi' || a.who?.identifier?.value === 'rudi'))).toBe(true);
    expect((await new FhirClient(ws.baseUrl).get('Patient')).status).toBe(401);
    // The requestor of an unauthenticated attempt is known by its address only.
    const requestor = (e: AuditEvent) => e.agent?.find((a) => a.requestor);
    const anonymous = (await events('outcome=4')).filter((e) => !requestor(e)?.who);
    expect(anonymous.length).toBeGreaterThanOrEqual(1);
    expect(requestor(anonymous[0]!)?.network?.address).toBe('127.0.0.1');
  });

  it('security events: users added and changed, roles defined, apps registered, tokens issued (by the CLI too)', async () => {
    await flint(['user', 'add', 'sec', '--role', 'reader'], 'sec password 1234\n');
    await flint(['user', 'disable', 'sec']);
    await flint(['user', 'role-add', 'sec-role', '--allow', 'Patient:read']);
    await flint(['app', 'add', '--name', 'SecApp', '--redirect-uri', 'http://127.0.0.1:4998/cb', '--scope', 'openid']);
    await flint(['token', 'create', '--scope', 'user/Patient.rs']);
    const kinds = async (kind: string) => events(`subtype=urn:flint:audit-subtype|${kind}`);
    const userEvents = await kinds('user-changed');
    expect(userEvents.filter((e) => e.entity?.some((x) => x.what?.identifier?.value === 'sec')).length).toBe(2);
    expect((await kinds('role-changed')).length).toBe(1);
    expect((await kinds('app-registered')).length).toBe(1);
    expect((await kinds('token-issued')).length).toBeGreaterThanOrEqual(3); // the tokens of these tests
    for (const e of [...userEvents, ...(await kinds('token-issued'))]) expect(JSON.stringify(e)).not.toMatch(/password 1234|eyJ/);
  });
});

describe('guarantees', () => {
  it('no AuditEvent can be written through the API, directly or in a transaction', async () => {
    const [one] = await events('_count=1');
    const ae = { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: new Date().toISOString(), agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    expect((await admin.post('AuditEvent', ae)).status).toBe(405);
    expect((await admin.put(`AuditEvent/${one!.id}`, { ...one, outcome: '8' })).status).toBe(405);
    expect((await admin.delete(`AuditEvent/${one!.id}`)).status).toBe(405);
    const before = (await auditor.get<Bundle>('AuditEvent?_summary=count')).body.total!;
    const tx = await admin.post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: ae, request: { method: 'POST', url: 'AuditEvent' } }] });
    expect(tx.status).toBe(405);
    expect((await auditor.get<AuditEvent>(`AuditEvent/${one!.id}`)).body.outcome).toBe(one!.outcome);
    // Only the attempts themselves were added.
    expect((await auditor.get<Bundle>('AuditEvent?_summary=count')).body.total!).toBeGreaterThan(before);
  });

  it('fails closed: with the audit log unwritable, data is neither returned nor written', async () => {
    const p = await admin.post<Patient>('Patient', { resourceType: 'Patient', name: [{ family: 'Closed' }] });
    const ref = `Patient/${p.body.id}`;
    const master = Buffer.from((await getMasterKey(ws.dataDir))!, 'base64');
    const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'flint/v1/audit', 32));
    const db = new Database(join(ws.dataDir, 'audit.db'), { timeout: 1000 });
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`key="x'${key.toString('hex')}'"`);
    db.exec('BEGIN IMMEDIATE'); // holds the write lock: the server cannot chain its journal into audit.db
    let answered = 0;
    try {
      // Reads are answered while their events are safe in the journal; once the oldest has
      // waited BACKLOG_MS (2 s) for the locked audit.db, recording fails closed.
      let refused: { status: number; body: unknown } | undefined;
      for (const end = Date.now() + 20_000; !refused && Date.now() < end; ) {
        const read = await admin.get<Patient>(ref);
        if (read.status === 500) refused = read;
        else {
          expect(read.status).toBe(200);
          answered++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(refused, 'no read was refused while audit.db stayed locked').toBeDefined();
      expect(JSON.stringify(refused!.body)).not.toContain('Closed');
      expect(answered).toBeGreaterThan(0);
      const write = await admin.post<Patient>('Patient', { resourceType: 'Patient', id: 'never', name: [{ family: 'Never' }] });
      expect(write.status).toBe(500);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect((await admin.get<Bundle>('Patient?family=never&_summary=count')).body.total).toBe(0);
    expect((await admin.get(ref)).status).toBe(200);
    // Every read that was answered is in the trail, chained once the lock was gone; the refused one is not.
    const reads = (await events(`entity=${ref}`)).filter((e) => subtype(e)?.[0] === 'read');
    expect(reads.filter((e) => e.outcome === '0')).toHaveLength(answered + 1);
  });

  it('flint audit verify finds the chain intact', async () => {
    const out = await flint(['audit', 'verify']);
    expect(out).toMatch(/OK/);
  });
});
