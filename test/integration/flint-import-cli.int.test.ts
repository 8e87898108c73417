/**
 * `flint import` on real data dirs: on a stopped data dir (a server started for the
 * import), beside a running server (through it), refused lines reported by place with
 * exit 1, and an import killed with SIGKILL mid-way then run again ending with each
 * resource once and one version each.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusAvailable, CORPUS, listJson, readJson } from '../support/corpus';
import { runFlint } from '../support/flint-process';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

const files = mkdtempSync(join(tmpdir(), 'flint-import-cli-'));
const dirs: string[] = [files];
afterAll(() => dirs.forEach(removeDir));

const patients = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `{"resourceType":"Patient","id":"${prefix}${i}","name":[{"family":"F${i}"}],"gender":"${i % 2 ? 'male' : 'female'}"}`).join('\n') + '\n';

const get = async (ws: RunningWorkstation, path: string) =>
  (await fetch(`${ws.baseUrl}/${path}`, { headers: { authorization: `Bearer ${ws.token}`, accept: 'application/fhir+json' } })).json() as Promise<Bundle>;

describe('flint import', () => {
  it('imports into a stopped data dir through a server of its own, and leaves no server behind', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const file = join(files, 'stopped.ndjson');
    writeFileSync(file, patients(3, 's'));
    const r = await runFlint(['import', '--data-dir', dataDir, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Imported: 3 written, 0 already stored, 0 refused/);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
    const ws = await startWorkstation({ dataDir });
    try {
      expect((await get(ws, 'Patient?_summary=count')).total).toBe(3);
    } finally {
      await ws.stop();
    }
  });

  it('imports through the running server, reports refused lines by place with exit 1, and writes nothing twice', async () => {
    const ws = await startWorkstation();
    dirs.push(ws.dataDir);
    try {
      const file = join(files, 'running.ndjson');
      writeFileSync(file, `${patients(2, 'r')}{"resourceType":"Patient","id":"bad","gender":"banana"}\nnot json\n`);
      const r = await runFlint(['import', '--data-dir', ws.dataDir, file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Importing through the server at http:\/\/127\.0\.0\.1:\d+\/fhir/);
      expect(r.stdout).toMatch(/2 written, 0 already stored, 2 refused/);
      expect(r.stdout).toMatch(/refused running\.ndjson:3: /);
      expect(r.stdout).toMatch(/refused running\.ndjson:4: not valid JSON/);
      expect((await get(ws, 'Patient?_summary=count')).total).toBe(2);
      const again = await runFlint(['import', '--data-dir', ws.dataDir, '--type', 'Patient', file]);
      expect(again.stdout).toMatch(/0 written, 2 already stored, 2 refused/);
      const usage = await runFlint(['import', '--data-dir', ws.dataDir, join(files, 'missing.ndjson')]);
      expect(usage.code).toBe(2);
    } finally {
      await ws.stop();
    }
  });

  it('run again after the server was killed mid-import, ends with each resource once and one version each', async () => {
    const N = 12_000;
    const file = join(files, 'big.ndjson');
    writeFileSync(file, patients(N, 'k'));
    let ws = await startWorkstation();
    dirs.push(ws.dataDir);
    const dataDir = ws.dataDir;
    const body = JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'input', part: [{ name: 'url', valueUri: pathToFileURL(file).href }] }] });
    const headers = { authorization: `Bearer ${ws.token}`, accept: 'application/fhir+json' };
    const kick = await fetch(`${ws.baseUrl}/$import`, { method: 'POST', headers: { ...headers, 'content-type': 'application/fhir+json', prefer: 'respond-async' }, body });
    expect(kick.status).toBe(202);
    // Kill it once some batches are in, well before the end.
    for (let i = 0; i < 400; i++) {
      const s = await fetch(kick.headers.get('content-location')!, { headers });
      const written = Number(/(\d+) written/.exec(s.headers.get('x-progress') ?? '')?.[1] ?? 0);
      if (written >= 1000 || s.status !== 202) break;
      await new Promise((ok) => setTimeout(ok, 20));
    }
    await ws.kill();
    ws = await startWorkstation({ dataDir });
    try {
      const before = (await get(ws, 'Patient?_summary=count')).total!;
      expect(before).toBeGreaterThan(0);
      expect(before % 500).toBe(0); // whole batches only: nothing half-imported
      expect(before).toBeLessThan(N);
      const r = await runFlint(['import', '--data-dir', dataDir, file]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`${N - before} written, ${before} already stored, 0 refused`));
      expect((await get(ws, 'Patient?_summary=count')).total).toBe(N);
      for (const id of ['k0', `k${before - 1}`, `k${N - 1}`]) expect((await get(ws, `Patient/${id}/_history`)).entry).toHaveLength(1);
    } finally {
      await ws.stop();
    }
  });

  it.runIf(corpusAvailable())('imports the Synthea folders of the corpus whole: smart-2019, and the HIV folder with its information Bundles first', async () => {
    // Each into its own data dir: both hold Organizations with the same identifiers, which
    // the HIV Bundles' conditional references would then find twice (as a server must say).
    for (const folder of ['synthea/smart-2019', 'synthea/synthea-hiv-2021']) {
      const ws = await startWorkstation();
      dirs.push(ws.dataDir);
      try {
        const files = listJson(folder);
        const entries = files.reduce((n, f) => n + (readJson<Bundle>(folder, f).entry?.length ?? 0), 0);
        const r = await runFlint(['import', '--data-dir', ws.dataDir, join(CORPUS, folder)], { timeoutMs: 300_000 });
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`Imported: ${entries} written, 0 already stored, 0 refused`));
        expect((await get(ws, 'Patient?_summary=count')).total).toBe(files.filter((f) => !/Information/.test(f)).length);
      } finally {
        await ws.stop();
      }
    }
  }, 300_000);
});
