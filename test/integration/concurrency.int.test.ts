/**
 * Concurrency over real HTTP: many clients racing on one resource or one set of criteria.
 *  - 50 parallel identical conditional creates (If-None-Exist) make exactly one resource;
 *  - N parallel updates with If-Match of the same version: exactly one winner per version,
 *    the others 412, and history grows by exactly one version per round (PUT, PATCH and
 *    DELETE racing);
 *  - parallel conditional updates on the same criteria create one resource;
 *  - conditional creates racing through plain POSTs and transaction Bundles at once;
 *  - plain transactions (no search in them: they hold the store lock shared and their
 *    resources exclusively) racing with If-Match on one resource, and with single writes.
 */
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient, isOutcome, type FhirReply } from '../support/fhir-client';
import { forgetDataDir } from '../support/keychain';
import { startWorkstation, type RunningWorkstation } from '../support/workstation';

const SYSTEM = 'http://x';

let ws: RunningWorkstation;
let client: FhirClient;

beforeAll(async () => {
  ws = await startWorkstation();
  client = ws.client();
  // Background data: conditional writes search it, so "search, then write" takes long
  // enough for racing requests to overlap (without it, a missing lock can go unnoticed).
  for (let batch = 0; batch < 3; batch++) {
    const res = await client.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 500 }, (_, i) => ({
        resource: patientWith(`background-${batch}-${i}`, 'bg'),
        request: { method: 'POST', url: 'Patient' },
      })),
    });
    expect(res.status).toBe(200);
  }
});

/** Opens `n` keep-alive connections first, so racing requests leave at the same moment. */
async function warmUp(n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => client.get('metadata')));
}
afterAll(async () => {
  await ws?.stop();
  await forgetDataDir(ws?.dataDir);
});

const unique = (prefix: string) => `${prefix}-${randomUUID()}`;
const criteria = (value: string) => `identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`;
const patientWith = (value: string, given: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: SYSTEM, value }],
  name: [{ family: 'Racer', given: [given] }],
});

function countBy<T>(items: T[], key: (t: T) => string | number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[String(key(i))] = (out[String(key(i))] ?? 0) + 1;
  return out;
}

/** Every Patient carrying the identifier, by a search (current resources). */
async function patientsWithIdentifier(value: string): Promise<Patient[]> {
  const res = await client.get<Bundle<Patient>>(`Patient?${criteria(value)}&_count=1000`);
  expect(res.status).toBe(200);
  const found = (res.body.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === 'Patient');
  expect(res.body.total, 'search total').toBe(found.length);
  return found;
}

async function instanceHistory(id: string): Promise<Bundle> {
  const res = await client.get<Bundle>(`Patient/${id}/_history?_count=1000`);
  expect(res.status).toBe(200);
  return res.body;
}

const vidOf = (reply: FhirReply<Patient>): string => {
  const etag = reply.headers.get('etag');
  const m = /^W\/"(.+)"$/.exec(etag ?? '');
  expect(m, `ETag header ${etag}`).not.toBeNull();
  return m![1]!;
};

describe('parallel conditional creates', () => {
  it('50 identical conditional creates: one 201, 49 x 200 with the same id, one resource stored', async () => {
    const value = unique('cc');
    await warmUp(50);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.post<Patient>('Patient', patientWith(value, `c${i}`), { 'if-none-exist': criteria(value) }),
      ),
    );
    expect(countBy(replies, (r) => r.status)).toEqual({ 200: 49, 201: 1 });
    const ids = new Set(replies.map((r) => r.body.id));
    expect(ids.size, `distinct ids returned: ${[...ids].join(', ')}`).toBe(1);
    const [id] = [...ids];
    for (const r of replies) {
      expect(r.body.resourceType).toBe('Patient');
      expect(r.body.identifier?.[0]?.value).toBe(value);
    }
    const created = replies.find((r) => r.status === 201)!;
    expect(created.headers.get('location')).toContain(`/Patient/${id}/_history/`);

    const found = await patientsWithIdentifier(value);
    expect(found.map((p) => p.id)).toEqual([id]);
    // Exactly one version was written: the 49 matches wrote nothing.
    expect((await instanceHistory(id!)).total).toBe(1);
    // And the system history holds no other Patient with this identifier (no lost twin
    // hidden by a later delete or overwrite).
    const sys = await client.get<Bundle<Patient>>('Patient/_history?_count=1000');
    const withValue = (sys.body.entry ?? []).filter((e) => e.resource?.identifier?.some((i) => i.value === value));
    expect(withValue.map((e) => e.resource!.id)).toEqual([id]);
  });

  it('conditional creates racing through POST and transaction Bundles make one resource', async () => {
    const value = unique('mixed');
    await warmUp(30);
    const posts = Array.from({ length: 15 }, (_, i) =>
      client.post<Patient>('Patient', patientWith(value, `p${i}`), { 'if-none-exist': criteria(value) }),
    );
    const txs = Array.from({ length: 15 }, (_, i) =>
      client.post<Bundle>('', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: `urn:uuid:${randomUUID()}`,
            resource: patientWith(value, `t${i}`),
            request: { method: 'POST', url: 'Patient', ifNoneExist: criteria(value) },
          },
        ],
      }),
    );
    const [postReplies, txReplies] = await Promise.all([Promise.all(posts), Promise.all(txs)]);
    for (const r of [...postReplies, ...txReplies]) {
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    }
    const entryStatuses = txReplies.map((r) => r.body as Bundle).map((b) => b.entry?.[0]?.response?.status ?? '?');
    const statuses = [...postReplies.map((r) => String(r.status)), ...entryStatuses.map((s) => s.split(' ')[0]!)];
    expect(countBy(statuses, (s) => s)).toEqual({ 200: 29, 201: 1 });
    const found = await patientsWithIdentifier(value);
    expect(found).toHaveLength(1);
    const id = found[0]!.id!;
    for (const r of postReplies) expect(r.body.id).toBe(id);
    for (const r of txReplies) expect((r.body as Bundle).entry?.[0]?.response?.location).toContain(`Patient/${id}/_history/`);
    expect((await instanceHistory(id)).total).toBe(1);
  });
});

describe('parallel updates with If-Match', () => {
  const CLIENTS = 12;
  const ROUNDS = 6;

  type Racer = { kind: 'PUT' | 'PATCH' | 'DELETE'; given: string };

  function race(id: string, vid: string, racer: Racer, i: number): Promise<FhirReply<Patient | OperationOutcome>> {
    // Both spellings of the same version: the weak ETag and the bare quoted id.
    const ifMatch = i % 2 === 0 ? `W/"${vid}"` : `"${vid}"`;
    if (racer.kind === 'PUT') {
      return client.put<Patient>(`Patient/${id}`, { ...patientWith(id, racer.given), id }, { 'if-match': ifMatch });
    }
    if (racer.kind === 'PATCH') {
      return client.patch<Patient>(`Patient/${id}`, [{ op: 'replace', path: '/name/0/given/0', value: racer.given }], {
        'if-match': ifMatch,
        'content-type': 'application/json-patch+json',
      });
    }
    return client.delete<OperationOutcome>(`Patient/${id}`, { 'if-match': ifMatch });
  }

  it(`${CLIENTS} clients x ${ROUNDS} rounds: exactly one 200 per version, the rest 412, one new version each`, async () => {
    const id = unique('im').slice(0, 40);
    const first = await client.put<Patient>(`Patient/${id}`, { ...patientWith(id, 'start'), id });
    expect(first.status).toBe(201);
    let vid = vidOf(first);
    expect(first.body.meta?.versionId).toBe(vid);
    const seenVids = new Set([vid]);

    for (let round = 1; round <= ROUNDS; round++) {
      const last = round === ROUNDS;
      // Rounds alternate PUT and PATCH; the last one races PUT, PATCH and DELETE.
      const racers: Racer[] = Array.from({ length: CLIENTS }, (_, i) => ({
        kind: last ? (['PUT', 'PATCH', 'DELETE'] as const)[i % 3]! : round % 2 === 1 ? 'PUT' : 'PATCH',
        given: `r${round}-c${i}`,
      }));
      await warmUp(CLIENTS);
      const replies = await Promise.all(racers.map((r, i) => race(id, vid, r, i)));
      const label = `round ${round}: ${replies.map((r) => r.status).join(',')}`;
      expect(countBy(replies, (r) => r.status), label).toEqual({ 200: 1, 412: CLIENTS - 1 });
      for (const r of replies.filter((x) => x.status === 412)) {
        expect(isOutcome(r.body), label).toBe(true);
      }
      const winnerIndex = replies.findIndex((r) => r.status === 200);
      const winner = replies[winnerIndex]!;
      const winningRacer = racers[winnerIndex]!;
      const newVid = vidOf(winner as FhirReply<Patient>);
      expect(seenVids.has(newVid), `${label}: version ${newVid} reused`).toBe(false);
      seenVids.add(newVid);

      const hist = await instanceHistory(id);
      expect(hist.total, `${label}: history must hold exactly one new version`).toBe(round + 1);
      expect(hist.entry?.[0]?.response?.etag).toBe(`W/"${newVid}"`);
      const versions = new Set((hist.entry ?? []).map((e) => e.response?.etag));
      expect(versions.size).toBe(round + 1);

      const now = await client.get<Patient>(`Patient/${id}`);
      if (winningRacer.kind === 'DELETE') {
        expect(now.status, label).toBe(410);
        expect(hist.entry?.[0]?.request?.method).toBe('DELETE');
      } else {
        expect(now.status, label).toBe(200);
        expect(now.body.meta?.versionId).toBe(newVid);
        expect(now.body.name?.[0]?.given).toEqual([winningRacer.given]);
        expect((winner.body as Patient).name?.[0]?.given).toEqual([winningRacer.given]);
      }
      // The version every loser raced for is now stale, and stays rejected.
      if (!last) {
        const stale = await client.put(`Patient/${id}`, { ...patientWith(id, 'stale'), id }, { 'if-match': `W/"${vid}"` });
        expect(stale.status).toBe(412);
        expect((await instanceHistory(id)).total).toBe(round + 1);
      }
      vid = newVid;
    }
  });
});

describe('parallel plain transactions', () => {
  it('with If-Match on one resource: one transaction wins each version, the others fail whole (412) and store nothing', async () => {
    const id = unique('tx').slice(0, 40);
    const first = await client.put<Patient>(`Patient/${id}`, { ...patientWith(id, 'start'), id });
    expect(first.status).toBe(201);
    const vid = vidOf(first);
    const N = 10;
    await warmUp(N + 5);
    // Each transaction: a new Observation, then an update of the shared Patient at vid.
    const txs = Array.from({ length: N }, (_, i) =>
      client.post<Bundle | OperationOutcome>('', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Observation', status: 'final', code: { text: `tx-race-${id}` }, subject: { reference: `Patient/${id}` } }, request: { method: 'POST', url: 'Observation' } },
          { resource: { ...patientWith(id, `tx${i}`), id }, request: { method: 'PUT', url: `Patient/${id}`, ifMatch: `W/"${vid}"` } },
        ],
      }),
    );
    // Single writes to other resources at the same time do not wait for them or break them.
    const singles = Array.from({ length: 5 }, (_, i) => client.post<Patient>('Patient', patientWith(unique(`single-${i}`), 'single')));
    const replies = await Promise.all(txs);
    expect((await Promise.all(singles)).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(countBy(replies, (r) => r.status), replies.map((r) => r.status).join(',')).toEqual({ 200: 1, 412: N - 1 });
    expect((await instanceHistory(id)).total).toBe(2);
    const obs = await client.get<Bundle>(`Observation?code:text=${encodeURIComponent(`tx-race-${id}`)}&_total=accurate`);
    expect(obs.body.total).toBe(1); // only the winner's Observation: the losers stored nothing
  });
});

describe('parallel conditional updates', () => {
  it('30 conditional updates on the same criteria: one resource, one 201, 30 versions', async () => {
    const value = unique('cu');
    const N = 30;
    await warmUp(N);
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => client.put<Patient>(`Patient?${criteria(value)}`, patientWith(value, `u${i}`))),
    );
    expect(countBy(replies, (r) => r.status)).toEqual({ 200: N - 1, 201: 1 });
    const ids = new Set(replies.map((r) => r.body.id));
    expect(ids.size, `distinct ids: ${[...ids].join(', ')}`).toBe(1);
    const [id] = [...ids];
    const found = await patientsWithIdentifier(value);
    expect(found.map((p) => p.id)).toEqual([id]);
    const hist = await instanceHistory(id!);
    expect(hist.total).toBe(N);
    expect(new Set(hist.entry!.map((e) => e.response?.etag)).size).toBe(N);
    // The stored resource is the last committed version, which is one of the writes.
    const current = await client.get<Patient>(`Patient/${id}`);
    const newest = hist.entry![0]!;
    expect(newest.response?.etag).toBe(`W/"${current.body.meta?.versionId}"`);
    const byGiven = replies.find((r) => r.body.meta?.versionId === current.body.meta?.versionId);
    expect(byGiven?.body.name?.[0]?.given).toEqual(current.body.name?.[0]?.given);
  });

  it('conditional updates on distinct criteria in parallel each create their own resource', async () => {
    const values = Array.from({ length: 20 }, () => unique('cu-own'));
    const replies = await Promise.all(values.map((v) => client.put<Patient>(`Patient?${criteria(v)}`, patientWith(v, 'own'))));
    expect(replies.map((r) => r.status)).toEqual(values.map(() => 201));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(values.length);
    for (const v of values) expect(await patientsWithIdentifier(v)).toHaveLength(1);
  });
});
