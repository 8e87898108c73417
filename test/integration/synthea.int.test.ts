/**
 * Synthea transaction Bundles: every smart-2019 bundle loads as one transaction with
 * every urn:uuid reference rewritten and counts per type equal to the bundles'; the HIV
 * bundles load after their two info batch bundles with every conditional reference
 * resolved; an HIV patient bundle without the info bundles fails whole and stores nothing.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../support/corpus';
import { FhirClient } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const available = corpusAvailable();
const SMART = 'synthea/smart-2019';
const HIV = 'synthea/synthea-hiv-2021';

function references(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => references(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

/** Reads every resource of a type through the paging links. */
async function readAll(client: FhirClient, type: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let url: string | undefined = `${type}?_count=1000`;
  while (url) {
    const page: { body: Bundle } = await client.get<Bundle>(url);
    out.push(...(page.body.entry ?? []).map((e) => e.resource as Resource));
    const next = page.body.link?.find((l) => l.relation === 'next')?.url;
    url = next ? next.slice(client.baseUrl.length) : undefined;
  }
  return out;
}

describe.runIf(available)('Synthea smart-2019 transactions', () => {
  let ws: RunningWorkstation;
  let client: FhirClient;
  beforeAll(async () => {
    ws = await startWorkstation();
    client = ws.client();
  });
  afterAll(async () => {
    await ws?.stop();
    removeDir(ws.dataDir);
  });

  it('loads all 90 bundles with references rewritten and counts per type matching', async () => {
    const files = listJson(SMART);
    expect(files).toHaveLength(90);
    const expected = new Map<string, number>();
    for (const file of files) {
      const bundle = readJson<Bundle>(SMART, file);
      for (const e of bundle.entry ?? []) {
        const t = e.resource!.resourceType;
        expected.set(t, (expected.get(t) ?? 0) + 1);
      }
      const res = await client.post<Bundle>('', bundle, { prefer: 'return=representation' });
      expect(res.status, file).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      expect(res.body.entry).toHaveLength(bundle.entry!.length);
      // fullUrl -> assigned Type/id, from the response's locations (same order as the request).
      const assigned = new Map<string, string>();
      bundle.entry!.forEach((e: BundleEntry, i) => {
        const r = res.body.entry![i]!;
        expect(r.response?.status).toMatch(/^201/);
        const m = /\/([A-Za-z]+)\/([^/]+)\/_history\//.exec(r.response!.location!);
        expect(m?.[1]).toBe(e.resource!.resourceType);
        assigned.set(e.fullUrl!, `${m![1]}/${m![2]}`);
      });
      // Every reference in the stored resources is a rewritten Type/id of this bundle.
      for (const [i, e] of res.body.entry!.entries()) {
        for (const ref of references(e.resource)) {
          expect(ref.startsWith('urn:uuid:'), `${file} entry ${i} kept ${ref}`).toBe(false);
        }
        const original = references(bundle.entry![i]!.resource);
        const stored = references(e.resource);
        expect(stored).toEqual(original.map((r) => assigned.get(r) ?? r));
      }
    }
    for (const [type, count] of expected) {
      const res = await client.get<Bundle>(`${type}?_summary=count`);
      expect(res.body.total, type).toBe(count);
    }
    // 20,629 resources at a few hundred per second, beside other suites on two cores.
  }, 400_000);
});

describe.runIf(available)('Synthea HIV bundles with conditional references', () => {
  const files = available ? listJson(HIV) : [];
  const info = files.filter((f) => /Information/.test(f)).sort((a) => (a.startsWith('hospital') ? -1 : 1));
  const patients = files.filter((f) => !/Information/.test(f));

  it('fails a patient bundle whole when its conditional references cannot resolve', async () => {
    const ws = await startWorkstation();
    try {
      const client = ws.client();
      const res = await client.post('', readJson<Bundle>(HIV, patients[0]!));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.resourceType).toBe('OperationOutcome');
      const all = await client.get<Bundle>('_history?_count=1');
      expect(all.body.total).toBe(0);
    } finally {
      await ws.stop();
      removeDir(ws.dataDir);
    }
  });

  it('loads the info batches, then every patient bundle, resolving every conditional reference', async () => {
    const ws = await startWorkstation();
    try {
      const client = ws.client();
      expect(info).toHaveLength(2);
      expect(patients).toHaveLength(6);
      for (const file of info) {
        const bundle = readJson<Bundle>(HIV, file);
        const res = await client.post<Bundle>('', bundle);
        expect(res.status).toBe(200);
        expect(res.body.type).toBe('batch-response');
        for (const e of res.body.entry!) expect(e.response?.status, JSON.stringify(e.response?.outcome)).toMatch(/^20[01]/);
      }
      // Loading the info batches twice creates nothing new (ifNoneExist).
      const again = await client.post<Bundle>('', readJson<Bundle>(HIV, info[0]!));
      for (const e of again.body.entry!) expect(e.response?.status).toMatch(/^200/);
      const expected = new Map<string, number>();
      for (const file of patients) {
        const bundle = readJson<Bundle>(HIV, file);
        for (const e of bundle.entry ?? []) {
          const t = e.resource!.resourceType;
          expected.set(t, (expected.get(t) ?? 0) + 1);
        }
        const res = await client.post<Bundle>('', bundle, { prefer: 'return=minimal' });
        expect(res.status, `${file}: ${JSON.stringify(res.body).slice(0, 400)}`).toBe(200);
      }
      for (const [type, count] of expected) {
        const stored = await readAll(client, type);
        if (type === 'Organization' || type === 'Practitioner' || type === 'Location' || type === 'PractitionerRole') continue;
        expect(stored.length, type).toBe(count);
        for (const r of stored) {
          for (const ref of references(r)) {
            expect(ref.includes('?'), `${type} kept conditional reference`).toBe(false);
            expect(ref.startsWith('urn:'), `${type} kept ${ref}`).toBe(false);
          }
        }
      }
    } finally {
      await ws.stop();
      removeDir(ws.dataDir);
    }
  });
});
