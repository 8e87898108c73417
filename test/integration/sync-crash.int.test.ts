/**
 * Sync under failure (docs/sync.md, "Offline, retries, crashes"): the central server
 * killed with SIGKILL in the middle of a workstation's initial pull, and a workstation
 * killed with SIGKILL in the middle of its own. Either way the pull completes after the
 * restart, nothing is lost or duplicated, and the search index agrees with the store.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCouchServer, type CouchServer } from '../support/couch-server';
import type { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { configureSync, eventually, syncStatus } from '../support/sync-pair';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';
import { UNTIL_DEFAULT_MS } from '../support/until';

const RESOURCES = 4000; // 2,000 Patients + 2,000 Observations: 8,000 documents on the server
const BATCH = 250;

let couch: CouchServer;
let a: RunningWorkstation;
const dirs: string[] = [];
const running: RunningWorkstation[] = [];

async function load(client: FhirClient): Promise<void> {
  for (let start = 0; start < RESOURCES / 2; start += BATCH / 2) {
    const entry = [];
    for (let i = start; i < start + BATCH / 2; i++) {
      entry.push({ resource: { resourceType: 'Patient', id: `crash-${i}`, name: [{ family: `Crash${i}` }], gender: 'other' }, request: { method: 'PUT', url: `Patient/crash-${i}` } });
      entry.push({
        resource: { resourceType: 'Observation', id: `crash-obs-${i}`, status: 'final', code: { text: 'crash-load' }, subject: { reference: `Patient/crash-${i}` }, valueInteger: i },
        request: { method: 'PUT', url: `Observation/crash-obs-${i}` },
      });
    }
    const r = await client.post<Bundle>('', { resourceType: 'Bundle', type: 'transaction', entry });
    expect(r.status).toBe(200);
  }
}

const count = async (client: FhirClient, query: string): Promise<number> => (await client.get<Bundle>(query)).body.total ?? -1;

/** Everything arrived exactly once: search (the index) and history (the store) both count every resource once. */
async function expectComplete(ws: RunningWorkstation, localPatients = 0): Promise<void> {
  const client = ws.client();
  const figures = async () => ({
    observations: await count(client, 'Observation?code:text=crash-load&_summary=count'),
    patients: await count(client, 'Patient?gender=other&_summary=count'),
    // History scans the store itself: every version document, once.
    versions: ((await client.get<Bundle>('Patient/_history?_count=1')).body.total ?? 0) + ((await client.get<Bundle>('Observation/_history?_count=1')).body.total ?? 0),
  });
  const want = { observations: RESOURCES / 2, patients: RESOURCES / 2, versions: RESOURCES + localPatients };
  let last = await figures();
  await eventually(async () => {
    last = await figures();
    return last.versions >= want.versions && last.observations >= want.observations ? true : undefined;
  }, 120_000, 'every resource arrived').catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  });
  // Nothing duplicated or missing, in the index and in the store alike.
  expect(await figures()).toEqual(want);
  expect((await client.get<Bundle>('Observation/crash-obs-1234/_history')).body.total).toBe(1);
  const conflicts = await fetch(new URL('/flint/conflicts', ws.baseUrl), { headers: { authorization: `Bearer ${ws.token}` } });
  expect(((await conflicts.json()) as { conflicts: unknown[] }).conflicts).toEqual([]);
}

async function freshWorkstation(): Promise<RunningWorkstation> {
  const dir = tempDataDir('flint-crash-');
  dirs.push(dir);
  const ws = await startWorkstation({ dataDir: dir });
  running.push(ws);
  return ws;
}

/** Resolves once the workstation has received some but not all documents. */
async function midPull(ws: RunningWorkstation): Promise<number> {
  return eventually(async () => {
    const s = await syncStatus(ws);
    return s.received > 0 ? s.received : undefined;
  }, 60_000, 'the pull under way');
}

beforeAll(async () => {
  couch = await startCouchServer();
  const setup = await runFlint(['sync', 'setup-remote', '--remote', couch.dbUrl('clinic'), '--username', couch.admin.username], { input: `${couch.admin.password}\n` });
  expect(setup.code, setup.stderr).toBe(0);
  await couch.createUser('ws', 'pw-ws', ['flint-workstation']);
  a = await freshWorkstation();
  await load(a.client());
  await configureSync(a.dataDir, couch.dbUrl('clinic'), 'ws', 'pw-ws');
  // Everything on the server before the other workstations start pulling.
  await eventually(async () => {
    const s = await syncStatus(a);
    return s.state === 'idle' && s.pending === 0 && s.sent >= RESOURCES * 2 ? true : undefined;
  }, 120_000, 'A pushed everything');
}, 240_000);

afterAll(async () => {
  for (const ws of running) await ws.stop().catch(() => undefined);
  await couch?.close();
  for (const d of dirs) removeDir(d);
});

describe('initial sync under failure', () => {
  it('completes after the server is killed mid-pull and restarted', async () => {
    const b = await freshWorkstation();
    await configureSync(b.dataDir, couch.dbUrl('clinic'), 'ws', 'pw-ws');
    const before = await midPull(b);
    expect(before).toBeLessThan(RESOURCES * 2);
    await couch.kill();

    await eventually(async () => ((await syncStatus(b)).state === 'offline' ? true : undefined), UNTIL_DEFAULT_MS, 'B offline').catch((e: Error) => {
      throw new Error(`${e.message}\nexit ${String(b.proc.exitCode ?? b.proc.signalCode)}\n${b.output()}`);
    });
    // Local work goes on meanwhile.
    expect((await b.client().put('Patient/local-while-down', { resourceType: 'Patient', id: 'local-while-down' })).status).toBe(201);
    await couch.restart();
    await expectComplete(b, 1);
  });

  it('completes after the workstation is killed with SIGKILL mid-pull and restarted', async () => {
    const c = await freshWorkstation();
    await configureSync(c.dataDir, couch.dbUrl('clinic'), 'ws', 'pw-ws');
    await midPull(c);
    await c.kill();
    const again = await startWorkstation({ dataDir: c.dataDir });
    running.push(again);
    // The Patient B wrote while the server was down reached the server too.
    await expectComplete(again, 1);
    expect((await again.client().get('Patient/local-while-down')).status).toBe(200);
  });
});
