/**
 * Bulk export (FHIR Bulk Data Access 2.0) against a real server: kick-off at the three
 * levels, status polling with X-Progress, the manifest, NDJSON downloads (exact decimals
 * kept), _type, _since, _typeFilter and _elements, cancellation, refusals as
 * OperationOutcomes that start nothing, files readable only by the principal that started
 * the export and sealed on disk, and the CapabilityStatement's declarations.
 */
import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlint } from '../support/flint-process';
import { FhirClient } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
let other: string; // a reader's token: another principal
const MARKER = 'Zebulon-Quetzalcoatl';

const observation = (id: string, subject: string | undefined, code: string, value: string) =>
  `{"resourceType":"Observation","id":"${id}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"${code}"}]},` +
  `${subject ? `"subject":{"reference":"Patient/${subject}"},` : ''}"valueQuantity":{"value":${value},"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`;

async function call(method: string, url: string, token: string | undefined, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const kickOff = (path: string, token = ws.token, extra: Record<string, string> = {}) =>
  call('GET', `${ws.baseUrl}/${path}`, token, { prefer: 'respond-async', ...extra });

/** Polls a status URL until it stops answering 202; returns the last answer. */
async function finished(statusUrl: string, token = ws.token) {
  for (let i = 0; i < 200; i++) {
    const r = await call('GET', statusUrl, token);
    if (r.status !== 202) return r;
    expect(r.headers.get('x-progress')).toBeTruthy();
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error('the export did not finish');
}

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: Array<{ type: string; url: string; count: number }>;
  error: unknown[];
}

/** Runs an export to the end; returns the manifest and every file's resources by type. */
async function exportAll(path: string, token = ws.token, extra: Record<string, string> = {}) {
  const k = await kickOff(path, token, extra);
  expect(k.status, k.text).toBe(202);
  const statusUrl = k.headers.get('content-location')!;
  expect(statusUrl).toMatch(/\/_export\/[0-9a-f-]{36}$/);
  const done = await finished(statusUrl, token);
  expect(done.status, done.text).toBe(200);
  const manifest = JSON.parse(done.text) as Manifest;
  const byType = new Map<string, Resource[]>();
  const texts: string[] = [];
  for (const o of manifest.output) {
    const f = await call('GET', o.url, token, { accept: 'application/fhir+ndjson' });
    expect(f.status).toBe(200);
    expect(f.headers.get('content-type')).toBe('application/fhir+ndjson');
    texts.push(f.text);
    const lines = f.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(o.count);
    byType.set(o.type, [...(byType.get(o.type) ?? []), ...lines.map((l) => JSON.parse(l) as Resource)]);
  }
  return { manifest, byType, statusUrl, texts };
}

const ids = (rs: Resource[] | undefined) => (rs ?? []).map((r) => r.id).sort();

beforeAll(async () => {
  ws = await startWorkstation();
  const c = ws.client();
  const json = { 'content-type': 'application/fhir+json' };
  for (const p of ['pa', 'pb', 'pc']) expect((await c.put(`Patient/${p}`, { resourceType: 'Patient', id: p, gender: 'female', name: [{ family: `${MARKER}-${p}` }] })).status).toBe(201);
  expect((await c.put('Observation/oa', observation('oa', 'pa', '29463-7', '1.10'), json)).status).toBe(201);
  expect((await c.put('Observation/ob', observation('ob', 'pb', '8302-2', '170.0'), json)).status).toBe(201);
  expect((await c.put('Observation/onone', observation('onone', undefined, '29463-7', '3'), json)).status).toBe(201);
  expect((await c.put('Practitioner/dr', { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Who' }] })).status).toBe(201);
  expect((await c.put('Group/g1', { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/pa' } }, { entity: { reference: 'Patient/pc' } }] })).status).toBe(201);
  const add = await runFlint(['user', 'add', 'rita', '--role', 'reader', '--data-dir', ws.dataDir], { input: 'rita password 123\n' });
  expect(add.code, add.stderr).toBe(0);
  const tok = await runFlint(['token', 'create', '--user', 'rita', '--scope', 'user/*.rs', '--data-dir', ws.dataDir]);
  expect(tok.code, tok.stderr).toBe(0);
  other = tok.stdout.trim();
});

afterAll(async () => {
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

describe('bulk export', () => {
  it('exports every resource of the asked types as NDJSON, with a manifest, keeping exact decimals', async () => {
    const { manifest, byType, texts } = await exportAll('$export?_type=Patient,Observation,Practitioner');
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.request).toBe(`${ws.baseUrl}/$export?_type=Patient%2CObservation%2CPractitioner`);
    expect(Date.parse(manifest.transactionTime)).toBeGreaterThan(0);
    expect(manifest.error).toEqual([]);
    expect(ids(byType.get('Patient'))).toEqual(['pa', 'pb', 'pc']);
    expect(ids(byType.get('Observation'))).toEqual(['oa', 'ob', 'onone']);
    expect(ids(byType.get('Practitioner'))).toEqual(['dr']);
    expect(byType.has('Group')).toBe(false); // not asked for
    expect(texts.join('')).toContain('"value":1.10');
    expect(texts.join('')).toContain('"value":170.0');
  });

  it('takes _since, _typeFilter and _elements', async () => {
    const before = new Date().toISOString();
    await new Promise((ok) => setTimeout(ok, 20));
    expect((await ws.client().put('Practitioner/dr2', { resourceType: 'Practitioner', id: 'dr2', name: [{ family: 'Later' }] })).status).toBe(201);
    const since = await exportAll(`$export?_type=Practitioner&_since=${encodeURIComponent(before)}`);
    expect(ids(since.byType.get('Practitioner'))).toEqual(['dr2']);

    const filtered = await exportAll(`$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|29463-7')}`);
    expect(ids(filtered.byType.get('Observation'))).toEqual(['oa', 'onone']);

    const slim = await exportAll('$export?_type=Patient&_elements=Patient.name');
    const pa = slim.byType.get('Patient')!.find((r) => r.id === 'pa') as Resource & { name?: unknown; gender?: unknown };
    expect(pa.name).toBeDefined();
    expect(pa.gender).toBeUndefined();
    expect(pa.meta?.tag?.some((t) => t.code === 'SUBSETTED')).toBe(true);
  });

  it('exports the Patient compartments at Patient/$export, and only the members\' at Group/[id]/$export', async () => {
    const patients = await exportAll('Patient/$export');
    expect(ids(patients.byType.get('Patient'))).toEqual(['pa', 'pb', 'pc']);
    expect(ids(patients.byType.get('Observation'))).toEqual(['oa', 'ob']); // onone is in no patient's compartment
    expect(patients.byType.has('Practitioner')).toBe(false); // not a Patient compartment type
    expect(ids(patients.byType.get('Group'))).toEqual(['g1']); // Group.member puts it in its members' compartments

    const group = await exportAll('Group/g1/$export');
    expect(ids(group.byType.get('Patient'))).toEqual(['pa', 'pc']);
    expect(ids(group.byType.get('Observation'))).toEqual(['oa']);
    expect((await kickOff('Group/nope/$export')).status).toBe(404);
  });

  it('shows an export, its status and its files to the principal that started it only', async () => {
    const { manifest, statusUrl } = await exportAll('$export?_type=Patient');
    const file = manifest.output[0]!.url;
    expect((await call('GET', statusUrl, other)).status).toBe(404);
    expect((await call('GET', file, other, { accept: 'application/fhir+ndjson' })).status).toBe(404);
    expect((await call('DELETE', statusUrl, other)).status).toBe(404);
    expect((await call('GET', file, undefined, { accept: 'application/fhir+ndjson' })).status).toBe(401);
    // A reader (no export permission) cannot start one.
    const refused = await kickOff('$export', other);
    expect(refused.status).toBe(403);
    expect((JSON.parse(refused.text) as OperationOutcome).resourceType).toBe('OperationOutcome');
    // Still there for its owner.
    expect((await call('GET', file, ws.token, { accept: 'application/fhir+ndjson' })).status).toBe(200);
  });

  it('keeps the files sealed on disk: no resource text in the data dir\'s exports folder', async () => {
    const { manifest } = await exportAll('$export?_type=Patient');
    expect(manifest.output.length).toBeGreaterThan(0);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(join(ws.dataDir, 'exports'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(MARKER)), f).toBe(false);
      expect(bytes.includes(Buffer.from('resourceType')), f).toBe(false);
    }
  });

  it('cancels with DELETE: 202, then the export and its files are gone', async () => {
    const { manifest, statusUrl } = await exportAll('$export?_type=Observation');
    expect((await call('DELETE', statusUrl, ws.token)).status).toBe(202);
    expect((await call('GET', statusUrl, ws.token)).status).toBe(404);
    expect((await call('GET', manifest.output[0]!.url, ws.token, { accept: 'application/fhir+ndjson' })).status).toBe(404);
  });

  it('serves a backend service (private_key_jwt, exporter role) asking for more than it may have', async () => {
    const pair = await generateKeyPair('RS384', { extractable: true });
    const keys = mkdtempSync(join(tmpdir(), 'flint-bulk-jwks-'));
    try {
      writeFileSync(join(keys, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS384', use: 'sig' }] }));
      const add = await runFlint(['app', 'add', '--name', 'Exporter', '--jwks', join(keys, 'jwks.json'), '--role', 'exporter', '--scope', 'system/*.rs', '--data-dir', ws.dataDir]);
      expect(add.code, add.stderr).toBe(0);
      const clientId = /^client_id: (\S+)$/m.exec(add.stdout)![1]!;
      const smart = JSON.parse((await call('GET', `${ws.baseUrl}/.well-known/smart-configuration`, undefined)).text) as { token_endpoint: string };
      /** A token for this client by a freshly signed assertion (each needs its own jti). */
      const tokenFor = async (scope: string) => {
        const now = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: 'RS384', kid: 'k1', typ: 'JWT' })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(smart.token_endpoint)
          .setIssuedAt(now)
          .setExpirationTime(now + 240)
          .setJti(randomUUID())
          .sign(pair.privateKey);
        const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope };
        const t = await fetch(smart.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
        expect(t.status).toBe(200);
        return (await t.json()) as { access_token: string; scope: string };
      };
      const token = await tokenFor('system/*.cruds');
      expect(token.scope).toBe('system/*.rs'); // what an exporter may have of what it asked for
      const { byType } = await exportAll('$export?_type=Patient,Observation', token.access_token);
      expect(ids(byType.get('Patient'))).toEqual(['pa', 'pb', 'pc']);
      expect(ids(byType.get('Observation'))).toEqual(['oa', 'ob', 'onone']);
      // A narrower token of the same client gets no file of a type it no longer covers.
      const narrow = (await tokenFor('system/Observation.rs')).access_token;
      const k0 = await kickOff('$export?_type=Patient,Observation', token.access_token);
      const done = JSON.parse((await finished(k0.headers.get('content-location')!, token.access_token)).text) as Manifest;
      const fileOf = (type: string) => done.output.find((o) => o.type === type)!.url;
      expect((await call('GET', fileOf('Patient'), narrow, { accept: 'application/fhir+ndjson' })).status).toBe(403);
      expect((await call('GET', fileOf('Observation'), narrow, { accept: 'application/fhir+ndjson' })).status).toBe(200);
      // Associated Provenance needs the right to export Provenance: refused, or ignored and said so.
      const assoc = '$export?_type=Observation&includeAssociatedData=LatestProvenanceResources';
      const refused = await kickOff(assoc, narrow);
      expect(refused.status, refused.text).toBe(403);
      expect(refused.text).toMatch(/Provenance/);
      const lenient = await exportAll(assoc, narrow, { prefer: 'respond-async, handling=lenient' });
      expect(lenient.byType.has('Provenance')).toBe(false);
      expect(lenient.manifest.error).toHaveLength(1);
      // Its export is its own: the administrator who did not start it does not see it.
      const k = await kickOff('$export?_type=Patient', token.access_token);
      expect((await call('GET', k.headers.get('content-location')!, ws.token)).status).toBe(404);
    } finally {
      removeDir(keys);
    }
  });

  it('refuses a bad kick-off with an OperationOutcome and starts nothing', async () => {
    const cases: Array<[string, Record<string, string>, number]> = [
      ['$export', { prefer: '' }, 400], // not asynchronous
      ['$export?_type=Nonsense', {}, 400],
      ['$export?_since=yesterday', {}, 400],
      ['$export?_since=0000-60-01T30:70:80%2B05:00', {}, 400], // no such instant
      ['$export?_since=2020-01-01T10:00Z', {}, 400], // an instant has seconds
      ['$export?_since=2999-01-01T00:00:00Z', {}, 400], // in the future
      ['$export?_outputFormat=text/csv', {}, 400],
      ['$export?_typeFilter=Observation', {}, 400],
      ['$export?_typeFilter=' + encodeURIComponent('Observation?nonsense=1'), {}, 400],
      ['$export?includeAssociatedData=_custom', {}, 400],
      ['$export?unknown=1', {}, 400],
      ['Patient/$export?_type=Practitioner', {}, 400], // not in a patient compartment
      ['Observation/$export', {}, 404],
    ];
    for (const [path, headers, status] of cases) {
      const r = await kickOff(path, ws.token, headers);
      expect(r.status, path).toBe(status);
      expect((JSON.parse(r.text) as OperationOutcome).resourceType, path).toBe('OperationOutcome');
      expect(r.headers.get('content-location'), path).toBeNull();
    }
    // Prefer: handling=lenient ignores what it does not support, and says so in the manifest.
    const lenient = await exportAll(`$export?_type=Patient&unknown=1&_typeFilter=${encodeURIComponent('Patient?status=active')}`, ws.token, { prefer: 'respond-async, handling=lenient' });
    expect(ids(lenient.byType.get('Patient'))).toEqual(['pa', 'pb', 'pc']); // the filter ignored, not applied
    expect(lenient.manifest.error).toHaveLength(1);
    const notes = await call('GET', (lenient.manifest.error[0] as { url: string }).url, ws.token, { accept: 'application/fhir+ndjson' });
    expect(notes.text).toMatch(/'unknown' is not supported/);
    expect(notes.text).toMatch(/status/);
  });

  it('takes a POST kick-off with a Parameters resource', async () => {
    const body = JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Patient,Observation' },
        { name: 'patient', valueReference: { reference: 'Patient/pb' } },
      ],
    });
    const k = await call('POST', `${ws.baseUrl}/Patient/$export`, ws.token, { prefer: 'respond-async', 'content-type': 'application/fhir+json' }, body);
    expect(k.status, k.text).toBe(202);
    const done = await finished(k.headers.get('content-location')!);
    const manifest = JSON.parse(done.text) as Manifest;
    expect(manifest.output.map((o) => [o.type, o.count]).sort()).toEqual([
      ['Observation', 1],
      ['Patient', 1],
    ]);
  });

  it('declares $export at the three levels and instantiates the Bulk Data CapabilityStatement', async () => {
    const cs = (await new FhirClient(ws.baseUrl).get<CapabilityStatement>('metadata')).body;
    expect(cs.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    const rest = cs.rest![0]!;
    expect(rest.operation).toContainEqual({ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' });
    const ops = (type: string) => rest.resource!.find((r) => r.type === type)!.operation ?? [];
    expect(ops('Patient')).toContainEqual({ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' });
    expect(ops('Group')).toContainEqual({ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' });
    expect(ops('Observation').some((o) => o.name === 'export')).toBe(false);
  });

  it('exports a large store in one pass over the change feed: each resource once, none later than transactionTime', async () => {
    const N = 6_000; // above FEED_READ_MIN
    const file = join(mkdtempSync(join(tmpdir(), 'flint-bulk-big-')), 'big.ndjson');
    writeFileSync(file, Array.from({ length: N }, (_, i) => `{"resourceType":"Patient","id":"big${i}","name":[{"family":"B${i}"}]}`).join('\n'));
    const body = JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'input', part: [{ name: 'url', valueUri: `file://${file}` }] }] });
    const k = await call('POST', `${ws.baseUrl}/$import`, ws.token, { prefer: 'respond-async', 'content-type': 'application/fhir+json' }, body);
    expect(k.status).toBe(202);
    expect((await finished(k.headers.get('content-location')!)).status).toBe(200);
    const kick = await kickOff('$export?_type=Patient');
    // A change while the export runs: exported as it was, or not at all if it came first.
    expect((await ws.client().put('Patient/big7', { resourceType: 'Patient', id: 'big7', name: [{ family: 'Changed' }] })).status).toBe(200);
    const done = await finished(kick.headers.get('content-location')!);
    const manifest = JSON.parse(done.text) as Manifest;
    const lines: Resource[] = [];
    for (const o of manifest.output) {
      const f = await call('GET', o.url, ws.token, { accept: 'application/fhir+ndjson' });
      lines.push(...f.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource));
    }
    const all = ids(lines);
    expect(all.length).toBe(new Set(all).size); // each once
    expect(all.filter((id) => id!.startsWith('big'))).toHaveLength(N);
    for (const r of lines) expect(Date.parse(r.meta!.lastUpdated!)).toBeLessThanOrEqual(Date.parse(manifest.transactionTime));
  });

  it('leaves ordinary searches alone (the routes do not shadow types or ids)', async () => {
    const r = await ws.client().get<Bundle>('Patient?_id=pa');
    expect(r.body.entry?.map((e) => e.resource?.id)).toEqual(['pa']);
  });

  it('adds the Provenance of what it returns with includeAssociatedData (relevant: all; latest: the newest per resource)', async () => {
    const c = ws.client();
    const prov = (id: string, recorded: string, ...targets: string[]) =>
      c.put(`Provenance/${id}`, { resourceType: 'Provenance', id, recorded, target: targets.map((reference) => ({ reference })), agent: [{ who: { reference: 'Practitioner/dr' } }] });
    expect((await prov('pv0', '2026-01-01T00:00:00Z', 'Observation/oa')).status).toBe(201);
    expect((await prov('pv1', '2026-03-01T00:00:00Z', 'Patient/pa')).status).toBe(201);
    // An hour ahead of UTC: still earlier than pv1, later than pv0.
    expect((await prov('pv2', '2026-02-01T01:00:00+01:00', 'Patient/pa', `${ws.baseUrl}/Observation/oa/_history/1`)).status).toBe(201);
    expect((await prov('pv3', '2026-04-01T00:00:00Z', 'Patient/pb')).status).toBe(201); // pb is not exported below

    const q = `$export?_type=Patient,Observation&_typeFilter=${encodeURIComponent('Patient?_id=pa')},${encodeURIComponent('Observation?_id=oa')}`;
    const none = await exportAll(q);
    expect(none.byType.has('Provenance')).toBe(false);
    const relevant = await exportAll(`${q}&includeAssociatedData=RelevantProvenanceResources`);
    expect(ids(relevant.byType.get('Patient'))).toEqual(['pa']);
    expect(ids(relevant.byType.get('Provenance'))).toEqual(['pv0', 'pv1', 'pv2']);
    const latest = await exportAll(`${q}&includeAssociatedData=LatestProvenanceResources`);
    expect(ids(latest.byType.get('Provenance'))).toEqual(['pv1', 'pv2']); // pa: pv1; oa: pv2

    // Provenance exported as a type of its own is not repeated.
    const both = await exportAll('$export?_type=Patient,Provenance&includeAssociatedData=RelevantProvenanceResources');
    expect(ids(both.byType.get('Provenance'))).toEqual(['pv0', 'pv1', 'pv2', 'pv3']);

    // Codes it does not know: ignored and said so when lenient.
    const lenient = await exportAll(`${q}&includeAssociatedData=_custom,LatestProvenanceResources`, ws.token, { prefer: 'respond-async, handling=lenient' });
    expect(ids(lenient.byType.get('Provenance'))).toEqual(['pv1', 'pv2']);
    expect(lenient.manifest.error).toHaveLength(1);
  });
});
