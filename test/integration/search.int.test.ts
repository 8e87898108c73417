/**
 * Search over HTTP on Synthea data, checked against counts computed independently from
 * the raw bundles: token, reference, date and string parameters, :missing, AND/OR, and
 * paging that neither repeats nor skips while other clients write. Read-your-writes:
 * a resource is found by search as soon as its write returns.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../support/corpus';
import { FhirClient } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const available = corpusAvailable();
const SMART = 'synthea/smart-2019';
const BUNDLES = 8;

interface Loaded {
  /** Every stored resource, as the server returned it (references rewritten). */
  resources: Resource[];
}

const count = async (c: FhirClient, query: string) => (await c.get<Bundle>(`${query}${query.includes('?') ? '&' : '?'}_summary=count`)).body.total;

describe.runIf(available)('search on Synthea data', () => {
  let ws: RunningWorkstation;
  let c: FhirClient;
  const loaded: Loaded = { resources: [] };

  beforeAll(async () => {
    ws = await startWorkstation();
    c = ws.client();
    for (const file of listJson(SMART).slice(0, BUNDLES)) {
      const res = await c.post<Bundle>('', readJson<Bundle>(SMART, file), { prefer: 'return=representation' });
      expect(res.status).toBe(200);
      loaded.resources.push(...(res.body.entry ?? []).map((e: BundleEntry) => e.resource as Resource));
    }
  });
  afterAll(async () => {
    await ws?.stop();
    removeDir(ws.dataDir);
  });

  const of = <T extends Resource>(type: string) => loaded.resources.filter((r) => r.resourceType === type) as T[];

  it('token: Observations by LOINC code, with and without system, and :not', async () => {
    type Obs = { code: { coding: Array<{ system: string; code: string }> } };
    const obs = of<Resource & Obs>('Observation');
    const codes = [...new Set(obs.map((o) => o.code.coding[0]!.code))].slice(0, 5);
    for (const code of codes) {
      const expected = obs.filter((o) => o.code.coding.some((k) => k.code === code)).length;
      expect(expected).toBeGreaterThan(0);
      expect(await count(c, `Observation?code=${code}`), code).toBe(expected);
      expect(await count(c, `Observation?code=http://loinc.org|${code}`), code).toBe(
        obs.filter((o) => o.code.coding.some((k) => k.code === code && k.system === 'http://loinc.org')).length,
      );
      expect(await count(c, `Observation?code:not=${code}`)).toBe(obs.length - expected);
    }
    const two = codes.slice(0, 2);
    expect(await count(c, `Observation?code=${two.join(',')}`)).toBe(obs.filter((o) => o.code.coding.some((k) => two.includes(k.code))).length);
  });

  it('reference: Observations and Encounters per patient, by id and Type/id', async () => {
    type Subj = { subject?: { reference: string } };
    for (const p of of('Patient')) {
      const ref = `Patient/${p.id}`;
      const obs = of<Resource & Subj>('Observation').filter((o) => o.subject?.reference === ref).length;
      expect(obs).toBeGreaterThan(0);
      expect(await count(c, `Observation?subject=${ref}`)).toBe(obs);
      expect(await count(c, `Observation?subject=${p.id}`)).toBe(obs);
      expect(await count(c, `Observation?patient=${ref}`)).toBe(obs);
      expect(await count(c, `Encounter?subject=${ref}`)).toBe(of<Resource & Subj>('Encounter').filter((e) => e.subject?.reference === ref).length);
    }
  });

  it('date: Encounters by period with prefixes, computed from the raw periods', async () => {
    type Enc = { period: { start: string; end?: string } };
    const enc = of<Resource & Enc>('Encounter');
    const t = '2015-01-01';
    const cut = Date.parse(`${t}T00:00:00Z`);
    const day = 86_400_000;
    const start = (e: Enc) => Date.parse(e.period.start);
    const end = (e: Enc) => (e.period.end ? Date.parse(e.period.end) : Infinity);
    // ge: the period ends at or after the start of the day; lt: it starts before it.
    const ge = enc.filter((e) => end(e) >= cut).length;
    const lt = enc.filter((e) => start(e) < cut).length;
    expect(ge > 0 && lt > 0 && ge < enc.length, 'the cut must split the data').toBe(true);
    expect(await count(c, `Encounter?date=ge${t}`)).toBe(ge);
    expect(await count(c, `Encounter?date=lt${t}`)).toBe(lt);
    // sa: starts after the whole day ends.
    expect(await count(c, `Encounter?date=sa${t}`)).toBe(enc.filter((e) => start(e) >= cut + day).length);
    // AND of two date criteria.
    const t2 = Date.parse('2016-01-01T00:00:00Z');
    expect(await count(c, `Encounter?date=ge${t}&date=lt2016-01-01`)).toBe(enc.filter((e) => end(e) >= cut && start(e) < t2).length);
  });

  it('string and :missing: Patients by family name prefix, deceased dates', async () => {
    type Pat = { name: Array<{ family: string }>; deceasedDateTime?: string };
    const pats = of<Resource & Pat>('Patient');
    for (const p of pats.slice(0, 4)) {
      const prefix = p.name[0]!.family.slice(0, 3).toLowerCase();
      const expected = pats.filter((q) => q.name.some((n) => n.family.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').startsWith(prefix))).length;
      expect(await count(c, `Patient?family=${encodeURIComponent(prefix)}`)).toBe(expected);
    }
    expect(await count(c, 'Patient?death-date:missing=false')).toBe(pats.filter((p) => p.deceasedDateTime).length);
    expect(await count(c, 'Patient?death-date:missing=true')).toBe(pats.filter((p) => !p.deceasedDateTime).length);
  });

  it('pages without repeats or skips while other clients write, and finds each write as soon as it returns', async () => {
    const total = of('Observation').length;
    const seen: string[] = [];
    let url: string | undefined = 'Observation?_count=200';
    let writes = 0;
    while (url) {
      const page: { body: Bundle } = await c.get<Bundle>(url);
      seen.push(...(page.body.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!));
      // A write between pages: new ids are random, so they land before and after the cursor.
      const created = await c.post<Resource>('Observation', { resourceType: 'Observation', status: 'final', code: { text: `paging-${writes}` } });
      writes++;
      expect(await count(c, `Observation?_id=${created.body.id}`)).toBe(1);
      const next = page.body.link?.find((l) => l.relation === 'next')?.url;
      url = next?.slice(ws.baseUrl.length + 1);
    }
    expect(new Set(seen).size).toBe(seen.length);
    const original = new Set(of('Observation').map((o) => o.id));
    expect(seen.filter((id) => original.has(id)).length).toBe(total);
    expect(writes).toBeGreaterThan(1);
  });
});
