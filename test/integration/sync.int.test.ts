/**
 * Sync end to end (docs/sync.md): two real workstations and one real pouchdb-server
 * process, talking HTTP only, as a clinic's machines would.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_SYSTEM } from '../../shared/fhir/sync-tags';
import { runFlint } from '../support/flint-process';
import { eventually, flintApi, readWhen, startSyncPair, syncStatus, type SyncPair } from '../support/sync-pair';
import { UNTIL_DEFAULT_MS } from '../support/until';

let pair: SyncPair;

beforeAll(async () => {
  pair = await startSyncPair();
}, 120_000);

afterAll(async () => {
  await pair?.close();
});

interface ConflictList {
  conflicts: Array<{ type: string; id: string; kind: string; current: string; versions: string[] }>;
}

const total = async (client: ReturnType<SyncPair['a']['client']>, query: string) => {
  const r = await client.get<Bundle>(`${query}${query.includes('?') ? '&' : '?'}_total=accurate`);
  return r.body.total ?? r.body.entry?.length ?? 0;
};

describe('replication between two workstations', () => {
  it('brings a create, an update and a delete from A to B, readable and searchable', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    const created = await a.put('Patient/rep-1', { resourceType: 'Patient', id: 'rep-1', name: [{ family: 'Replica' }], gender: 'female' });
    expect(created.status).toBe(201);
    await eventually(() => readWhen(b, 'Patient/rep-1', created.body.meta?.versionId), UNTIL_DEFAULT_MS, 'the create on B');
    expect(await total(b, 'Patient?family=Replica')).toBe(1);

    const updated = await a.put('Patient/rep-1', { resourceType: 'Patient', id: 'rep-1', name: [{ family: 'Renamed' }], gender: 'female' });
    expect(updated.status).toBe(200);
    await eventually(() => readWhen(b, 'Patient/rep-1', updated.body.meta?.versionId), UNTIL_DEFAULT_MS, 'the update on B');
    expect(await total(b, 'Patient?family=Replica')).toBe(0);
    expect(await total(b, 'Patient?family=Renamed')).toBe(1);
    const history = await b.get<Bundle>('Patient/rep-1/_history');
    expect(history.body.entry?.map((e) => e.resource?.meta?.versionId).sort()).toEqual(
      [created.body.meta?.versionId, updated.body.meta?.versionId].sort(),
    );

    expect((await a.delete('Patient/rep-1')).status).toBe(200);
    await eventually(async () => ((await b.get('Patient/rep-1')).status === 410 ? true : undefined), UNTIL_DEFAULT_MS, 'the delete on B');
    expect(await total(b, 'Patient?family=Renamed')).toBe(0);
  });

  it('carries exact decimals (1.10 stays 1.10) to the other workstation, searchable at their precision', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    const body = '{"resourceType":"Observation","id":"dec-1","status":"final","code":{"text":"weight"},"valueQuantity":{"value":1.10,"unit":"kg"}}';
    const created = await a.put('Observation/dec-1', body, { 'content-type': 'application/fhir+json' });
    expect(created.status).toBe(201);
    await eventually(() => readWhen(b, 'Observation/dec-1', created.body.meta?.versionId), UNTIL_DEFAULT_MS, 'the Observation on B');
    expect((await b.get('Observation/dec-1')).text).toContain('"value":1.10');
    // 1.10's range [1.095, 1.105) is inside the search for 1.10; 1.1's would not be.
    expect(await total(b, 'Observation?_id=dec-1&value-quantity=1.10')).toBe(1);
  });

  it('never shows a transaction half-applied on the other workstation', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    const entries = Array.from({ length: 40 }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'tx-marker' }, subject: { reference: 'Patient/tx-p' }, valueInteger: i },
      request: { method: 'POST', url: 'Observation' },
    }));
    const tx = await a.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', id: 'tx-p', name: [{ family: 'Tx' }] }, request: { method: 'PUT', url: 'Patient/tx-p' } }, ...entries],
    });
    expect(tx.status).toBe(200);
    // Poll B as it arrives: 0 or all 40, never in between.
    const seen = new Set<number>();
    await eventually(async () => {
      const n = await total(b, 'Observation?code:text=tx-marker');
      seen.add(n);
      return n === 40 ? n : undefined;
    }, UNTIL_DEFAULT_MS, 'the transaction on B');
    expect([...seen].filter((n) => n !== 0 && n !== 40)).toEqual([]);
    expect((await b.get('Patient/tx-p')).status).toBe(200);
  });

  it('reports its status to signed-in users, and refuses anonymous callers', async () => {
    const s = await eventually(async () => {
      const st = await syncStatus(pair.a);
      return st.state === 'idle' ? st : undefined;
    }, UNTIL_DEFAULT_MS, 'A idle');
    expect(s.configured).toBe(true);
    expect(s.sent).toBeGreaterThan(0);
    expect(s.pending).toBe(0);
    // Every request is audited, this one too: the central audit copy trails by a few at most.
    await eventually(async () => ((await syncStatus(pair.a)).auditPending <= 5 ? true : undefined), UNTIL_DEFAULT_MS, 'the audit backlog pushed');
    const anonymous = await fetch(new URL('/flint/sync', pair.a.baseUrl));
    expect(anonymous.status).toBe(401);
    const cli = await runFlint(['sync', 'status', '--data-dir', pair.a.dataDir]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ configured: true, server: 'running' });
  });

  it('streams status changes as server-sent events', async () => {
    const ctrl = new AbortController();
    const res = await fetch(new URL('/flint/sync/events', pair.b.baseUrl), { headers: { authorization: `Bearer ${pair.b.token}` }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^event: status\ndata: \{.*"configured":true/);
    ctrl.abort();
  });

  it('quarantines an invalid resource put straight into the remote database, and never serves it', async () => {
    const vid = '1.zzzzzz';
    const bad = { resourceType: 'Patient', id: 'bad-1', gender: 42, meta: { versionId: vid, lastUpdated: '2026-01-01T00:00:00.000Z' } };
    const base = { type: 'Patient', id: 'bad-1', vid, n: 1, ts: '2026-01-01T00:00:00.000Z', method: 'PUT', deleted: false, resource: bad };
    for (const doc of [
      { ...base, _id: `h:Patient/bad-1/${vid}`, kind: 'version' },
      { ...base, _id: 'r:Patient/bad-1', kind: 'head' },
    ]) {
      const put = await pair.couch.request('PUT', `/clinic/${encodeURIComponent(doc._id)}`, doc);
      expect(put.status).toBe(201);
    }
    const list = await eventually(async () => {
      const q = await flintApi<{ quarantine: Array<{ doc: string; type: string; id: string }> }>(pair.b, 'GET', 'sync/quarantine');
      // The version and the head may arrive in separate batches: wait for both.
      return q.body.quarantine.filter((e) => e.id === 'bad-1').length === 2 ? q.body.quarantine : undefined;
    }, UNTIL_DEFAULT_MS, 'the quarantine entry on B');
    expect(list.filter((e) => e.id === 'bad-1').map((e) => e.doc).sort()).toEqual(['h:Patient/bad-1/1.zzzzzz', 'r:Patient/bad-1']);
    expect((await pair.b.client().get('Patient/bad-1')).status).toBe(404);
    expect((await pair.b.client().get('Patient/bad-1/_history/1.zzzzzz')).status).toBe(404);
    expect(await total(pair.b.client(), 'Patient?_id=bad-1')).toBe(0);
    expect((await syncStatus(pair.b)).quarantined).toBeGreaterThanOrEqual(2);
  });
});

describe('central audit', () => {
  it('receives both workstations\' AuditEvents, including the sync batches, and verify --remote finds an admin\'s edit', async () => {
    const wsOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'flint.json'), 'utf8')) as { workstationId: string }).workstationId;
    const [wa, wb] = [wsOf(pair.a.dataDir), wsOf(pair.b.dataDir)];
    const docs = await eventually(async () => {
      const all = await pair.couch.request('GET', '/clinic-audit/_all_docs?include_docs=true');
      const rows = (all.json.rows as Array<{ id: string; doc: { event: { type: { code: string } } } }>).filter((r) => !r.id.startsWith('_design/'));
      const codes = new Set(rows.map((r) => r.doc.event.type.code));
      const both = rows.some((r) => r.id.startsWith(`${wa}-`)) && rows.some((r) => r.id.startsWith(`${wb}-`));
      return both && codes.has('110106') && codes.has('110107') ? rows : undefined;
    }, UNTIL_DEFAULT_MS, 'both chains with export and import events in the central audit database');
    expect(docs.length).toBeGreaterThan(2);
    const remoteArgs = ['audit', 'verify', '--remote', pair.couch.dbUrl('clinic-audit'), '--username', pair.couch.admin.username];
    const ok = await runFlint(remoteArgs, { input: `${pair.couch.admin.password}\n` });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`OK ${wa}:`));
    expect(ok.stdout).toMatch(new RegExp(`OK ${wb}:`));
    // An update is refused while the validation is installed...
    const target = docs.find((r) => r.id.startsWith(`${wa}-`))!;
    const current = await pair.couch.request('GET', `/clinic-audit/${target.id}`);
    const refused = await pair.couch.request('PUT', `/clinic-audit/${target.id}`, { ...current.json, event: { ...current.json.event, outcome: '8' } });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    // ...so an admin removes it first, then edits: verify names the workstation.
    const design = await pair.couch.request('GET', '/clinic-audit/_design/flint-audit');
    expect((await pair.couch.request('DELETE', `/clinic-audit/_design/flint-audit?rev=${design.json._rev}`)).status).toBe(200);
    expect((await pair.couch.request('PUT', `/clinic-audit/${target.id}`, { ...current.json, event: { ...current.json.event, outcome: '8' } })).status).toBe(201);
    const broken = await runFlint(remoteArgs, { input: `${pair.couch.admin.password}\n` });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`BROKEN ${wa}`));
    expect(broken.stdout).toMatch(new RegExp(`OK ${wb}:`));
  });
});

describe('working apart, then converging', () => {
  it('detects edit, delete and duplicate conflicts, keeps every version, and resolves everywhere', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    // Shared starting point.
    const e0 = await a.put('Patient/c-edit', { resourceType: 'Patient', id: 'c-edit', name: [{ family: 'Start' }] });
    const d0 = await a.put('Patient/c-del', { resourceType: 'Patient', id: 'c-del', name: [{ family: 'Keep' }] });
    await eventually(() => readWhen(b, 'Patient/c-edit', e0.body.meta?.versionId), UNTIL_DEFAULT_MS, 'c-edit on B');
    await eventually(() => readWhen(b, 'Patient/c-del', d0.body.meta?.versionId), UNTIL_DEFAULT_MS, 'c-del on B');

    await pair.couch.stop();
    // Apart: conflicting edits, a delete against an edit, the same patient created twice, and a plain edit.
    const ea = await a.put('Patient/c-edit', { resourceType: 'Patient', id: 'c-edit', name: [{ family: 'FromA' }] });
    const eb = await b.put('Patient/c-edit', { resourceType: 'Patient', id: 'c-edit', name: [{ family: 'FromB' }] });
    expect(ea.status).toBe(200);
    expect(eb.status).toBe(200);
    expect((await a.delete('Patient/c-del')).status).toBe(200);
    const db = await b.put('Patient/c-del', { resourceType: 'Patient', id: 'c-del', name: [{ family: 'EditedOnB' }] });
    const identifier = [{ system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' }];
    const dupA = await a.post<Patient>('Patient', { resourceType: 'Patient', identifier, name: [{ family: 'Twin' }] });
    const dupB = await b.post<Patient>('Patient', { resourceType: 'Patient', identifier, name: [{ family: 'Twin' }] });
    const lone = await b.put('Patient/c-lone', { resourceType: 'Patient', id: 'c-lone', name: [{ family: 'Alone' }] });
    const offline = await eventually(async () => {
      const s = await syncStatus(pair.a);
      return s.state === 'offline' && s.pending > 0 && s.auditPending > 0 ? s : undefined;
    }, UNTIL_DEFAULT_MS, 'A offline with changes and audit events pending');
    expect(offline.message).toMatch(/cannot be reached/);

    await pair.couch.restart();
    // Converged: both sides show the same current version and list the same conflicts.
    const conflictsOf = async (ws: SyncPair['a']) => (await flintApi<ConflictList>(ws, 'GET', 'conflicts')).body.conflicts;
    await eventually(async () => {
      const [ca, cb] = [await conflictsOf(pair.a), await conflictsOf(pair.b)];
      const kinds = (c: ConflictList['conflicts']) => c.map((x) => `${x.id}:${x.kind}:${x.current}:${[...x.versions].sort().join(',')}`).sort();
      const want = ca.some((c) => c.id === 'c-edit') && ca.some((c) => c.id === 'c-del') && ca.filter((c) => c.kind === 'duplicate').length === 2;
      return want && JSON.stringify(kinds(ca)) === JSON.stringify(kinds(cb)) ? true : undefined;
    }, 40_000, 'the same conflicts on A and B');
    await eventually(() => readWhen(a, 'Patient/c-lone', lone.body.meta?.versionId), UNTIL_DEFAULT_MS, 'c-lone on A');
    const list = await conflictsOf(pair.a);
    const edit = list.find((c) => c.id === 'c-edit')!;
    expect(edit.kind).toBe('edit');
    expect([...edit.versions].sort()).toEqual([ea.body.meta?.versionId, eb.body.meta?.versionId].sort());
    const del = list.find((c) => c.id === 'c-del')!;
    expect(del.kind).toBe('delete');
    expect(del.versions).toContain(db.body.meta?.versionId);
    const dups = list.filter((c) => c.kind === 'duplicate').map((c) => c.id).sort();
    expect(dups).toEqual([dupA.body.id, dupB.body.id].sort());

    // Every edit is in history on both sides; the current version is the same; reads carry the tag.
    for (const client of [a, b]) {
      const h = await client.get<Bundle>('Patient/c-edit/_history');
      const vids = h.body.entry?.map((e) => e.resource?.meta?.versionId) ?? [];
      expect(vids).toEqual(expect.arrayContaining([e0.body.meta?.versionId, ea.body.meta?.versionId, eb.body.meta?.versionId]));
      expect((await client.get(`Patient/c-edit/_history/${eb.body.meta?.versionId}`)).status).toBe(200);
      const cur = await client.get('Patient/c-edit');
      expect(cur.body.meta?.versionId).toBe(edit.current);
      expect(cur.body.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ system: SYNC_SYSTEM, code: 'conflict' })]));
    }
    const server = await pair.couch.request('GET', '/clinic/r%3APatient%2Fc-edit?conflicts=true');
    expect(server.json.vid).toBe(edit.current);
    expect(server.json._conflicts).toHaveLength(1);

    // Resolve on A by keeping B's edit: a new version, the conflict gone everywhere, no tag.
    const resolved = await flintApi<{ resolved: { versionId: string } }>(pair.a, 'POST', 'conflicts/Patient/c-edit', { keep: eb.body.meta?.versionId });
    expect(resolved.status).toBe(200);
    const newVid = resolved.body.resolved.versionId;
    for (const [ws, client] of [[pair.a, a], [pair.b, b]] as const) {
      const cur = await eventually(() => readWhen(client, 'Patient/c-edit', newVid), UNTIL_DEFAULT_MS, 'the resolution');
      expect((cur as Patient).name?.[0]?.family).toBe('FromB');
      expect(cur.meta?.tag ?? []).not.toEqual(expect.arrayContaining([expect.objectContaining({ code: 'conflict' })]));
      await eventually(async () => ((await conflictsOf(ws)).some((c) => c.id === 'c-edit') ? undefined : true), UNTIL_DEFAULT_MS, 'conflict gone');
    }
    const finalServer = await pair.couch.request('GET', '/clinic/r%3APatient%2Fc-edit?conflicts=true');
    expect(finalServer.json._conflicts).toBeUndefined();

    // A duplicate confirmed as two people disappears from the list on both sides.
    const dupHead = (await a.get(`Patient/${dupA.body.id}`)).body;
    const keep = await flintApi(pair.a, 'POST', `conflicts/Patient/${dupA.body.id}`, { keep: dupHead.meta?.versionId });
    expect(keep.status).toBe(200);
    for (const ws of [pair.a, pair.b]) {
      await eventually(async () => ((await conflictsOf(ws)).some((c) => c.kind === 'duplicate') ? undefined : true), UNTIL_DEFAULT_MS, 'duplicate reviewed');
    }
  });

  it('refuses a bad resolution with an OperationOutcome and changes nothing', async () => {
    const none = await flintApi<{ resourceType: string }>(pair.a, 'POST', 'conflicts/Patient/no-such', { keep: '1.abcdef' });
    expect(none.status).toBe(404);
    expect(none.body.resourceType).toBe('OperationOutcome');
    const both = await flintApi<{ resourceType: string }>(pair.a, 'POST', 'conflicts/Patient/c-del', { keep: 'x', resource: {} });
    expect(both.status).toBe(400);
    const notAVersion = await flintApi<{ resourceType: string }>(pair.a, 'POST', 'conflicts/Patient/c-del', { keep: '9.nope' });
    expect(notAVersion.status).toBe(422);
    const list = (await flintApi<ConflictList>(pair.a, 'GET', 'conflicts')).body.conflicts;
    expect(list.some((c) => c.id === 'c-del')).toBe(true);
  });

  it('syncs what $import wrote like any write: the other workstation reads and searches it', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    const dir = mkdtempSync(join(tmpdir(), 'flint-sync-import-'));
    try {
      const lines = ['imp-1', 'imp-2', 'imp-3'].map((id) => JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Imported-Sync' }] }));
      writeFileSync(join(dir, 'Patient.ndjson'), `${lines.join('\n')}\n`);
      const body = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
          { name: 'input', part: [{ name: 'url', valueUri: pathToFileURL(join(dir, 'Patient.ndjson')).href }] },
        ],
      };
      const kick = await a.post('$import', body, { prefer: 'respond-async' });
      expect(kick.status, kick.text).toBe(202);
      const statusPath = kick.headers.get('content-location')!.slice(pair.a.baseUrl.length + 1);
      await eventually(async () => ((await a.get(statusPath)).status === 200 ? true : undefined), UNTIL_DEFAULT_MS, 'the import');
      const vid = (await a.get('Patient/imp-3')).body.meta?.versionId;
      await eventually(() => readWhen(b, 'Patient/imp-3', vid), UNTIL_DEFAULT_MS, 'the imported Patients on B');
      expect(await total(b, 'Patient?family=Imported-Sync')).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
