/**
 * Bulk import ($import in the Azure FHIR service's shape, file:// inputs) against a real
 * server: NDJSON with bad and invalid lines reported by place while the rest is written
 * (exact decimals kept, searchable at once), an import run again writes nothing new, a
 * transaction Bundle file goes through whole, refusals start nothing, and a round trip:
 * everything exported from one workstation and imported into a fresh one gives the same
 * resources and the same search results.
 */
import type { AuditEvent, Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../support/corpus';
import { runFlint } from '../support/flint-process';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
const files = mkdtempSync(join(tmpdir(), 'flint-import-'));

async function call(ws: RunningWorkstation, method: string, url: string, headers: Record<string, string> = {}, body?: string, token = ws.token) {
  const res = await fetch(url, { method, headers: { accept: 'application/fhir+json', authorization: `Bearer ${token}`, ...headers }, ...(body ? { body } : {}) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const importBody = (...inputs: Array<{ path: string; type?: string }>) =>
  JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
      { name: 'mode', valueString: 'IncrementalLoad' },
      ...inputs.map((i) => ({ name: 'input', part: [...(i.type ? [{ name: 'type', valueString: i.type }] : []), { name: 'url', valueUri: pathToFileURL(i.path).href }] })),
    ],
  });

interface Summary {
  output: Array<{ type: string; count: number }>;
  error: Array<{ count: number; url: string }>;
}

async function runImport(target: RunningWorkstation, body: string, token = target.token) {
  const k = await call(target, 'POST', `${target.baseUrl}/$import`, { prefer: 'respond-async', 'content-type': 'application/fhir+json' }, body, token);
  expect(k.status, k.text).toBe(202);
  const statusUrl = k.headers.get('content-location')!;
  for (let i = 0; i < 600; i++) {
    const r = await call(target, 'GET', statusUrl, {}, undefined, token);
    if (r.status === 200) {
      const s = JSON.parse(r.text) as Summary;
      const count = (t: string) => s.output.find((o) => o.type === t)?.count ?? 0;
      return { written: count('written'), unchanged: count('unchanged'), errors: s.error[0]?.count ?? 0, errorUrl: s.error[0]?.url, statusUrl };
    }
    expect(r.status, r.text).toBe(202);
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error('the import did not finish');
}

beforeAll(async () => {
  ws = await startWorkstation();
});

afterAll(async () => {
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
  removeDir(files);
});

describe('bulk import', () => {
  it('writes the valid lines of NDJSON, reports the others by place without their text, and keeps exact decimals', async () => {
    const file = join(files, 'mixed.ndjson');
    writeFileSync(
      file,
      [
        '{"resourceType":"Patient","id":"i1","name":[{"family":"One"}]}',
        '{"resourceType":"Patient","id":"i2","name":[{"family":"Two"}]}',
        '{"resourceType":"Patient","id":"i3", SecretName',
        '{"resourceType":"Patient","id":"i4","gender":"banana"}',
        '{"resourceType":"Observation","id":"io1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/i1"},"valueQuantity":{"value":1.10,"unit":"kg"}}',
        '{"resourceType":"Patient","name":[{"family":"No id"}]}',
      ].join('\n'),
    );
    const r = await runImport(ws, importBody({ path: file }));
    expect(r).toMatchObject({ written: 3, unchanged: 0, errors: 3 });
    const errors = await call(ws, 'GET', r.errorUrl!, { accept: 'application/fhir+ndjson' });
    expect(errors.status).toBe(200);
    const outcomes = errors.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as OperationOutcome);
    expect(outcomes.map((o) => o.issue[0]!.diagnostics!.split(':').slice(0, 2).join(':'))).toEqual(['mixed.ndjson:3', 'mixed.ndjson:4', 'mixed.ndjson:6']);
    expect(errors.text).not.toContain('SecretName');
    expect((await call(ws, 'GET', `${ws.baseUrl}/Observation/io1`)).text).toContain('"value":1.10');
    const found = JSON.parse((await call(ws, 'GET', `${ws.baseUrl}/Patient?family=One`)).text) as Bundle;
    expect(found.entry?.map((e) => e.resource?.id)).toEqual(['i1']);
  });

  it('records one AuditEvent per import run with its counts, besides one per resource written', async () => {
    const events = (JSON.parse((await call(ws, 'GET', `${ws.baseUrl}/AuditEvent?_count=1000`)).text) as Bundle).entry!.map((e) => e.resource as AuditEvent);
    const runs = events.filter((e) => JSON.stringify(e.subtype).includes('$import') && e.entity?.some((en) => en.detail?.some((d) => d.type === 'written')));
    expect(runs).toHaveLength(1);
    const detail = Object.fromEntries(runs[0]!.entity!.flatMap((en) => en.detail ?? []).map((d) => [d.type, d.valueString]));
    expect(detail).toMatchObject({ written: '3', unchanged: '0', refused: '3' });
    expect(events.filter((e) => e.entity?.some((en) => en.what?.reference?.startsWith('Patient/i1'))).length).toBeGreaterThan(0);
  });

  it('run again, writes nothing new: each resource once, no new versions', async () => {
    const r = await runImport(ws, importBody({ path: join(files, 'mixed.ndjson') }));
    expect(r).toMatchObject({ written: 0, unchanged: 3, errors: 3 });
    const history = JSON.parse((await call(ws, 'GET', `${ws.baseUrl}/Patient/i1/_history`)).text) as Bundle;
    expect(history.entry).toHaveLength(1);
  });

  it('imports http:// inputs served on loopback, as they arrive; refuses any other host', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/data/more.ndjson') {
        res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
        res.end('{"resourceType":"Patient","id":"h1"}\n{"resourceType":"Patient","id":"h2","gender":"banana"}\n');
      } else if (req.url === '/data/one.json') {
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        res.end('{"resourceType":"Practitioner","id":"h3"}');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`;
    const body = (...urls: string[]) => JSON.stringify({ resourceType: 'Parameters', parameter: urls.map((u) => ({ name: 'input', part: [{ name: 'url', valueUri: u }] })) });
    try {
      expect(await runImport(ws, body(`${base}/more.ndjson`, `${base}/one.json`, `${base}/missing.ndjson`))).toMatchObject({ written: 2, errors: 2 });
      expect((await call(ws, 'GET', `${ws.baseUrl}/Practitioner/h3`)).status).toBe(200);
      const json = { prefer: 'respond-async', 'content-type': 'application/fhir+json' };
      for (const u of ['http://example.org/x.ndjson', `http://user:pw@127.0.0.1:1/x.ndjson`, 'ftp://127.0.0.1/x.ndjson']) {
        expect((await call(ws, 'POST', `${ws.baseUrl}/$import`, json, body(u))).status, u).toBe(400);
      }
    } finally {
      server.close();
    }
  });

  it('refuses lines of another type than their input names', async () => {
    const file = join(files, 'typed.ndjson');
    writeFileSync(file, '{"resourceType":"Patient","id":"t1"}\n{"resourceType":"Practitioner","id":"t2"}\n');
    expect(await runImport(ws, importBody({ path: file, type: 'Patient' }))).toMatchObject({ written: 1, errors: 1 });
  });

  it('refuses a bad kick-off with an OperationOutcome and starts nothing', async () => {
    const json = { prefer: 'respond-async', 'content-type': 'application/fhir+json' };
    const cases: Array<[Record<string, string>, string, number]> = [
      [{ ...json, prefer: '' }, importBody({ path: join(files, 'mixed.ndjson') }), 400],
      [json, importBody({ path: join(files, 'missing.ndjson') }), 400],
      [json, JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'input', part: [{ name: 'url', valueUri: 'https://example.org/x.ndjson' }] }] }), 400],
      [json, JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'inputFormat', valueString: 'text/csv' }] }), 400],
      [json, JSON.stringify({ resourceType: 'Parameters', parameter: [] }), 400],
      [json, JSON.stringify({ resourceType: 'Patient' }), 400],
    ];
    for (const [headers, body, status] of cases) {
      const r = await call(ws, 'POST', `${ws.baseUrl}/$import`, headers, body);
      expect(r.status, body).toBe(status);
      expect((JSON.parse(r.text) as OperationOutcome).resourceType).toBe('OperationOutcome');
      expect(r.headers.get('content-location')).toBeNull();
    }
    // Without the import permission (a reader).
    const add = await runFlint(['user', 'add', 'rhea', '--role', 'reader', '--data-dir', ws.dataDir], { input: 'rhea password 123\n' });
    expect(add.code, add.stderr).toBe(0);
    const tok = await runFlint(['token', 'create', '--user', 'rhea', '--scope', 'user/*.rs', '--data-dir', ws.dataDir]);
    const refused = await call(ws, 'POST', `${ws.baseUrl}/$import`, json, importBody({ path: join(files, 'mixed.ndjson') }), tok.stdout.trim());
    expect(refused.status).toBe(403);
  });

  it.runIf(corpusAvailable())('imports a Synthea transaction Bundle file whole', async () => {
    const [first] = listJson('synthea/smart-2019');
    const bundle = readJson<Bundle>('synthea/smart-2019', first!);
    const file = join(files, 'patient-bundle.json');
    writeFileSync(file, JSON.stringify(bundle));
    const r = await runImport(ws, importBody({ path: file }));
    expect(r).toMatchObject({ written: bundle.entry!.length, errors: 0 });
  });

  it('round trip: everything exported from one workstation, imported into a fresh one, gives the same resources and searches', async () => {
    // Export everything from ws.
    const headers = { prefer: 'respond-async' };
    const k = await call(ws, 'GET', `${ws.baseUrl}/$export`, headers);
    expect(k.status).toBe(202);
    let manifest: { output: Array<{ type: string; url: string }> } | undefined;
    for (let i = 0; i < 300 && !manifest; i++) {
      const s = await call(ws, 'GET', k.headers.get('content-location')!);
      if (s.status === 200) manifest = JSON.parse(s.text) as typeof manifest;
      else await new Promise((ok) => setTimeout(ok, 100));
    }
    const dump = join(files, 'dump');
    mkdirSync(dump);
    let total = 0;
    for (const o of manifest!.output) {
      const f = await call(ws, 'GET', o.url, { accept: 'application/fhir+ndjson' });
      writeFileSync(join(dump, o.url.split('/').pop()!), f.text);
      total += f.text.split('\n').filter(Boolean).length;
    }
    const fresh = await startWorkstation();
    try {
      const r = await runImport(fresh, importBody({ path: dump }));
      expect(r).toMatchObject({ written: total, errors: 0 });
      for (const q of ['Patient?_count=1000', 'Observation?_count=1000', 'Observation?value-quantity=1.10', 'Patient?family=One']) {
        const strip = (b: Bundle) =>
          (b.entry ?? [])
            .map((e) => {
              const { meta: _m, ...rest } = e.resource as Resource & { meta?: unknown };
              return JSON.stringify(rest);
            })
            .sort();
        const a = JSON.parse((await call(ws, 'GET', `${ws.baseUrl}/${q}`)).text) as Bundle;
        const b = JSON.parse((await call(fresh, 'GET', `${fresh.baseUrl}/${q}`)).text) as Bundle;
        expect(strip(b), q).toEqual(strip(a));
      }
    } finally {
      await fresh.stop();
      removeDir(fresh.dataDir);
    }
  });
});
