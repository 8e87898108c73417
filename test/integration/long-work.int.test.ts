/**
 * Long work shows progress (docs/flint-api.md "Rebuilding the search index", docs/sync.md
 * "Status"), over real HTTP against real `flint serve` processes with the real keychain:
 * - the search index rebuild as a background job: 202 running, GET and server-sent events
 *   following it to done with processed == total, the same search results after, one job
 *   at a time (shared with $reindex), writes going on, admins only;
 * - a first sync from a pouchdb-server database holding thousands of documents: the sync
 *   status reports `pull` {received, total} growing toward the total, in words too, and
 *   drops it once up to date, with every resource searchable.
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReindexStatus } from '../../shared/api/reindex';
import type { SyncStatus } from '../../shared/api/sync';
import { startCouchServer, type CouchServer } from '../support/couch-server';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { forgetDataDir, KEYCHAIN_SERVICE, workstationIdOf } from '../support/keychain';
import { configureSync, eventually } from '../support/sync-pair';
import { startWorkstation, type RunningWorkstation } from '../support/workstation';

const running: RunningWorkstation[] = [];
afterAll(async () => {
  for (const ws of running) {
    await ws.stop().catch(() => undefined);
    for (const entry of ['sync-password', 'audit-head']) {
      await keytar.deletePassword(KEYCHAIN_SERVICE, `${workstationIdOf(ws.dataDir)}/${entry}`).catch(() => false);
    }
    await forgetDataDir(ws.dataDir);
  }
});

async function api<T = unknown>(ws: RunningWorkstation, token: string, method: string, path: string): Promise<{ status: number; body: T; contentType: string }> {
  const res = await fetch(new URL(`/flint/${path}`, ws.baseUrl), { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, contentType: res.headers.get('content-type') ?? '' };
}

/** Server-sent events of one stream, each handed to `onEvent` until it returns true (or the stream ends). */
async function readEvents<T>(ws: RunningWorkstation, path: string, onEvent: (name: string, data: T) => boolean, timeoutMs = 60_000): Promise<{ ended: boolean }> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(new URL(`/flint/${path}`, ws.baseUrl), { headers: { authorization: `Bearer ${ws.token}` }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { ended: true };
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name === undefined || data === undefined) continue; // a keep-alive comment
        if (onEvent(name, JSON.parse(data) as T)) {
          ctrl.abort();
          return { ended: false };
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

const count = async (client: FhirClient, query: string) => {
  const r = await client.get<Bundle>(`${query}${query.includes('?') ? '&' : '?'}_summary=count`);
  expect(r.status).toBe(200);
  return r.body.total;
};

describe('the search index rebuild as a background job', () => {
  let ws: RunningWorkstation;
  let readerToken: string;
  const RESOURCES = 600;

  beforeAll(async () => {
    ws = await startWorkstation();
    running.push(ws);
    const client = ws.client();
    // A few hundred resources: Patients and an Observation each, in transactions of 150.
    for (let from = 0; from < RESOURCES / 2; from += 150) {
      const entry = Array.from({ length: 150 }, (_, k) => {
        const i = from + k;
        return [
          { resource: { resourceType: 'Patient', id: `lw-${i}`, name: [{ family: i % 3 ? 'Longwork' : 'Rebuilt', given: [`G${i}`] }], gender: i % 2 ? 'female' : 'male' }, request: { method: 'PUT', url: `Patient/lw-${i}` } },
          { resource: { resourceType: 'Observation', id: `lwo-${i}`, status: 'final', code: { text: 'long-work' }, subject: { reference: `Patient/lw-${i}` }, valueInteger: i }, request: { method: 'PUT', url: `Observation/lwo-${i}` } },
        ];
      }).flat();
      const tx = await client.post<Bundle>('', { resourceType: 'Bundle', type: 'transaction', entry });
      expect(tx.status).toBe(200);
    }
    const add = await runFlint(['user', 'add', 'rita', '--role', 'reader', '--data-dir', ws.dataDir], { input: 'rita password 123\n' });
    expect(add.code, add.stderr).toBe(0);
    const token = await runFlint(['token', 'create', '--user', 'rita', '--scope', 'user/*.rs', '--data-dir', ws.dataDir]);
    expect(token.code, token.stderr).toBe(0);
    readerToken = token.stdout.trim();
  });

  const queries = ['Patient?family=Longwork', 'Patient?family=Rebuilt&gender=male', 'Observation?subject:Patient.family=Rebuilt', 'Observation?code:text=long-work'];

  it('POST /flint/reindex answers 202 at once; GET and the events follow it to done with processed == total; searches agree after', async () => {
    const client = ws.client();
    const before = await Promise.all(queries.map((q) => count(client, q)));
    expect(before).toEqual([200, 50, 100, 300]);
    expect((await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body).toEqual({ state: 'idle', processed: 0, total: 0 });

    const started = await api<ReindexStatus>(ws, ws.token, 'POST', 'reindex');
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'running', processed: 0, total: RESOURCES });
    expect(Date.parse(started.body.startedAt!)).toBeGreaterThan(Date.now() - 60_000);

    // The events and GET, side by side, until done.
    const events: ReindexStatus[] = [];
    const stream = readEvents<ReindexStatus>(ws, 'reindex/events', (name, s) => {
      expect(name).toBe('progress');
      events.push(s);
      return false;
    });
    const polled: ReindexStatus[] = [];
    const last = await eventually(async () => {
      const s = (await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body;
      polled.push(s);
      return s.state === 'running' ? undefined : s;
    }, 60_000, 'the rebuild to end');
    expect(last).toMatchObject({ state: 'done', processed: RESOURCES, total: RESOURCES, startedAt: started.body.startedAt });
    expect(Date.parse(last.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(last.startedAt!));
    // GET saw running (unless the rebuild beat the first poll), then done; never anything else.
    const states = [...new Set(polled.map((s) => s.state))];
    expect(states.at(-1)).toBe('done');
    expect(states.every((s) => s === 'running' || s === 'done')).toBe(true);
    for (const s of polled.filter((p) => p.state === 'running')) expect(s.processed).toBeLessThanOrEqual(s.total);

    // The stream ends by itself after done, its last event the same as GET's.
    expect(await stream).toEqual({ ended: true });
    expect(events.at(-1)).toEqual(last);
    expect(events.slice(0, -1).every((e) => e.state === 'running')).toBe(true);
    const processed = events.map((e) => e.processed);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));

    // The same answers as before the rebuild.
    expect(await Promise.all(queries.map((q) => count(client, q)))).toEqual(before);
    // Once done, the stream gives the last status and ends.
    const after: ReindexStatus[] = [];
    expect(await readEvents<ReindexStatus>(ws, 'reindex/events', (_n, s) => (after.push(s), false))).toEqual({ ended: true });
    expect(after).toEqual([last]);
  });

  it('shares one job with $reindex: a start while it runs is 409; a write meanwhile is answered and indexed', async () => {
    const client = ws.client();
    // $reindex while the background job runs (it takes a while for these resources): 409.
    const started = await api<ReindexStatus>(ws, ws.token, 'POST', 'reindex');
    expect(started.status).toBe(202);
    const refused = await client.post<OperationOutcome>('$reindex', undefined);
    // Refused unless the job ended in between (about a second here: only a stalled test process).
    if (refused.status !== 200) {
      expect(refused.status).toBe(409);
      expect(refused.body.issue?.[0]?.diagnostics).toMatch(/already being rebuilt/);
    }
    await eventually(async () => ((await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body.state === 'done' ? true : undefined), 60_000, 'the job to end');

    // The other way round: /flint/reindex while $reindex runs.
    const fhirReindex = client.post<OperationOutcome>('$reindex', undefined);
    let settled = false;
    void fhirReindex.finally(() => (settled = true));
    let seen: ReindexStatus | undefined;
    while (!settled && !seen) {
      const s = (await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body;
      if (s.state === 'running') seen = s;
      else await new Promise((r) => setTimeout(r, 10));
    }
    if (seen) {
      const second = await api<OperationOutcome>(ws, ws.token, 'POST', 'reindex');
      // Refused unless $reindex ended in between (it takes about a second here).
      if (second.status !== 202) {
        expect(second.status).toBe(409);
        expect(second.contentType).toMatch(/^application\/fhir\+json/);
        expect(second.body.issue?.[0]?.diagnostics).toMatch(/already being rebuilt/);
      }
    }
    // A write while the index is rebuilt: committed, and answered once the rebuild has ended.
    const write = await client.put('Patient/lw-during', { resourceType: 'Patient', id: 'lw-during', name: [{ family: 'Longwork' }] });
    expect(write.status).toBe(201);
    const done = await fhirReindex;
    expect(done.status).toBe(200);
    expect(done.body.issue?.[0]?.diagnostics).toMatch(/^Reindexed \d+ changes/);
    await eventually(async () => ((await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body.state === 'done' ? true : undefined), 60_000, 'every job to end');
    // The write counts if the rebuild read it; either way processed == total once done.
    const end = (await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body;
    expect(end.processed).toBe(end.total);
    expect([RESOURCES, RESOURCES + 1]).toContain(end.total);
    expect(await count(client, 'Patient?family=Longwork')).toBe(201);
    expect(await Promise.all(queries.slice(1).map((q) => count(client, q)))).toEqual([50, 100, 300]);
  });

  it('is for admins: a reader gets 403 on every path and starts nothing', async () => {
    const before = (await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body;
    for (const [method, path] of [['POST', 'reindex'], ['GET', 'reindex'], ['GET', 'reindex/events']]) {
      const r = await api<OperationOutcome>(ws, readerToken, method!, path!);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.resourceType).toBe('OperationOutcome');
    }
    expect((await api<ReindexStatus>(ws, ws.token, 'GET', 'reindex')).body).toEqual(before);
    const anonymous = await fetch(new URL('/flint/reindex', ws.baseUrl), { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });
});

describe('a first sync shows how far it is', () => {
  let couch: CouchServer;
  const PATIENTS = 3000; // 6,000 documents: a head and a version each, three pull batches

  beforeAll(async () => {
    couch = await startCouchServer();
    const remote = couch.dbUrl('clinic');
    const setup = await runFlint(['sync', 'setup-remote', '--remote', remote, '--username', couch.admin.username, '--member', 'ws-lw'], { input: `${couch.admin.password}\n` });
    expect(setup.code, setup.stderr).toBe(0);
    await couch.createUser('ws-lw', 'pw-lw', []);
    // The clinic's records as another workstation would have pushed them (bench/seed.mjs).
    const vid = '1.seed00';
    for (let from = 0; from < PATIENTS; from += 500) {
      const docs = Array.from({ length: 500 }, (_, k) => {
        const i = from + k;
        const ts = new Date(Date.UTC(2026, 0, 1) + i).toISOString();
        const resource = { resourceType: 'Patient', id: `sp${i}`, meta: { versionId: vid, lastUpdated: ts }, name: [{ family: i % 2 ? 'Seeded' : 'Synced', given: [`S${i}`] }], gender: i % 2 ? 'female' : 'male' };
        const rec = { type: 'Patient', id: resource.id, vid, n: 1, ts, method: 'PUT', deleted: false, resource };
        return [
          { ...rec, _id: `h:Patient/${resource.id}/${vid}`, kind: 'version' },
          { ...rec, _id: `r:Patient/${resource.id}`, kind: 'head' },
        ];
      }).flat();
      const r = await couch.request('POST', '/clinic/_bulk_docs', { docs });
      expect(r.status, JSON.stringify(r.json).slice(0, 200)).toBe(201);
    }
  });
  afterAll(async () => {
    await couch?.close();
  });

  it('reports pull.received growing toward pull.total, in words, then drops it when up to date with everything searchable', async () => {
    const ws = await startWorkstation();
    running.push(ws);
    const statuses: SyncStatus[] = [];
    let sawPull = false;
    const watching = readEvents<SyncStatus>(ws, 'sync/events', (name, s) => {
      expect(name).toBe('status');
      statuses.push(s);
      if (s.pull) sawPull = true;
      return sawPull && s.state === 'idle' && s.pull === undefined;
    }, 120_000);
    await configureSync(ws.dataDir, couch.dbUrl('clinic'), 'ws-lw', 'pw-lw');
    expect(await watching).toEqual({ ended: false });

    const withPull = statuses.filter((s) => s.pull);
    const received = withPull.map((s) => s.pull!.received);
    // Documents: a head and a version per resource, all of them from no checkpoint.
    expect(withPull.every((s) => s.pull!.total === 2 * PATIENTS)).toBe(true);
    expect(received[0]).toBeLessThan(2 * PATIENTS);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(new Set(received.filter((n) => n > 0 && n < 2 * PATIENTS)).size).toBeGreaterThanOrEqual(1);
    expect(received.every((n) => n <= 2 * PATIENTS)).toBe(true);
    const words = withPull.filter((s) => s.state === 'active').map((s) => s.message);
    expect(words.some((m) => /^Receiving the clinic’s records: [\d,]+ of about 6,000…$/.test(m))).toBe(true);
    // Up to date: no pull, the usual words.
    const idle = statuses.at(-1)!;
    expect(idle).toMatchObject({ state: 'idle', configured: true });
    expect(idle.pull).toBeUndefined();
    expect(idle.message).toMatch(/Up to date/);

    // Every resource received is searchable (the applier may trail the pull by a batch).
    const client = ws.client();
    await eventually(async () => ((await count(client, 'Patient')) === PATIENTS ? true : undefined), 60_000, 'every Patient searchable');
    expect(await count(client, 'Patient?family=Seeded')).toBe(PATIENTS / 2);
    const status = (await api<SyncStatus>(ws, ws.token, 'GET', 'sync')).body;
    expect(status.pull).toBeUndefined();
  });
});
