/**
 * `flint export` on a real data dir: refused while a server holds it; once stopped, the
 * same NDJSON lines as `$export` gave (exact decimals included), one file per type, the
 * same checks on types, instants and filters, and never into a folder that holds files.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlint } from '../support/flint-process';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
const outs = mkdtempSync(join(tmpdir(), 'flint-export-cli-'));
let viaApi: Map<string, string[]>;

async function apiExport(): Promise<Map<string, string[]>> {
  const headers = { authorization: `Bearer ${ws.token}`, accept: 'application/fhir+json', prefer: 'respond-async' };
  const k = await fetch(`${ws.baseUrl}/$export?_type=Patient,Observation`, { headers });
  expect(k.status).toBe(202);
  let r: Response;
  for (;;) {
    r = await fetch(k.headers.get('content-location')!, { headers });
    if (r.status !== 202) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  const manifest = (await r.json()) as { output: Array<{ type: string; url: string }> };
  const out = new Map<string, string[]>();
  for (const o of manifest.output) {
    const text = await (await fetch(o.url, { headers: { ...headers, accept: 'application/fhir+ndjson' } })).text();
    out.set(o.type, [...(out.get(o.type) ?? []), ...text.split('\n').filter(Boolean)]);
  }
  return out;
}

beforeAll(async () => {
  ws = await startWorkstation();
  const c = ws.client();
  for (const p of ['a', 'b']) expect((await c.put(`Patient/${p}`, { resourceType: 'Patient', id: p, name: [{ family: p }] })).status).toBe(201);
  const obs = '{"resourceType":"Observation","id":"w","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/a"},"valueQuantity":{"value":72.50,"unit":"kg"}}';
  expect((await c.put('Observation/w', obs, { 'content-type': 'application/fhir+json' })).status).toBe(201);
  viaApi = await apiExport();
});

afterAll(() => {
  removeDir(outs);
  if (ws) removeDir(ws.dataDir);
});

describe('flint export', () => {
  it('refuses a data dir a server holds, and says what to do', async () => {
    const r = await runFlint(['export', '--out', join(outs, 'locked'), '--data-dir', ws.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Stop the server on this data dir/);
    expect(existsSync(join(outs, 'locked'))).toBe(false);
  });

  it('writes, once the server stopped, the same NDJSON lines as $export, one file per type', async () => {
    expect(await ws.stop()).toBe(0);
    const out = join(outs, 'all');
    const r = await runFlint(['export', '--out', out, '--type', 'Patient,Observation', '--data-dir', ws.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Exported 3 resources/);
    expect(readdirSync(out).sort()).toEqual(['Observation.ndjson', 'Patient.ndjson']);
    for (const type of ['Patient', 'Observation']) {
      const lines = readFileSync(join(out, `${type}.ndjson`), 'utf8').split('\n').filter(Boolean);
      expect(lines.sort()).toEqual([...viaApi.get(type)!].sort());
    }
    expect(readFileSync(join(out, 'Observation.ndjson'), 'utf8')).toContain('"value":72.50');
  });

  it('checks its options as $export checks parameters, and never writes into a folder with files', async () => {
    const bad = await runFlint(['export', '--out', join(outs, 'bad'), '--type', 'Nonsense', '--data-dir', ws.dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown resource type/);
    const since = await runFlint(['export', '--out', join(outs, 'bad2'), '--since', 'yesterday', '--data-dir', ws.dataDir]);
    expect(since.code).toBe(2);
    const full = join(outs, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const r = await runFlint(['export', '--out', full, '--data-dir', ws.dataDir]);
    expect(r.code).toBe(1);
    expect(readdirSync(full)).toEqual(['keep.txt']);
    const future = await runFlint(['export', '--out', join(outs, 'future'), '--since', '2999-01-01T00:00:00Z', '--data-dir', ws.dataDir]);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/in the future/);
    const later = await runFlint(['export', '--out', join(outs, 'later'), '--since', new Date().toISOString(), '--data-dir', ws.dataDir]);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toMatch(/Exported 0 resources/);
  });
});
