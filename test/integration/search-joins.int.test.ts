/**
 * Search across resources over HTTP on Synthea data: chains (one and two levels, with
 * type modifiers), _has (nested), _include/_revinclude (with :iterate), _sort with
 * deterministic ties, paging forward and back, compartment search, system search and
 * Patient/$everything. Every expectation is computed in the test from the raw resources
 * the server returned when the bundles were loaded.
 */
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../support/corpus';
import { FhirClient } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const available = corpusAvailable();
const SMART = 'synthea/smart-2019';
const BUNDLES = 6;

type Ref = { reference?: string };
type Any = Resource & Record<string, unknown>;

const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

describe.runIf(available)('search across resources on Synthea data', () => {
  let ws: RunningWorkstation;
  let c: FhirClient;
  const all: Any[] = [];
  /** The resources each loaded bundle produced (one patient per bundle). */
  const perBundle: Any[][] = [];

  beforeAll(async () => {
    ws = await startWorkstation();
    c = ws.client();
    for (const file of listJson(SMART).slice(0, BUNDLES)) {
      const res = await c.post<Bundle>('', readJson<Bundle>(SMART, file), { prefer: 'return=representation' });
      expect(res.status).toBe(200);
      const rs = (res.body.entry ?? []).map((e: BundleEntry) => e.resource as Any);
      perBundle.push(rs);
      all.push(...rs);
    }
  });
  afterAll(async () => {
    await ws?.stop();
    removeDir(ws.dataDir);
  });

  const of = (type: string) => all.filter((r) => r.resourceType === type);
  const byKey = new Map<string, Any>();
  const get = (ref: string | undefined) => {
    if (byKey.size === 0) for (const r of all) byKey.set(`${r.resourceType}/${r.id}`, r);
    return ref ? byKey.get(ref) : undefined;
  };
  const codes = (r: Any) => ((r.code as { coding?: Array<{ code: string }> })?.coding ?? []).map((k) => k.code);
  const count = async (q: string) => (await c.get<Bundle>(`${q}${q.includes('?') ? '&' : '?'}_summary=count`)).body.total;
  /** Every page's entries, following next links. */
  const walk = async (q: string) => {
    const entries: BundleEntry[] = [];
    let url: string | undefined = q;
    while (url) {
      const page: { status: number; body: Bundle } = await c.get<Bundle>(url);
      expect(page.status, url).toBe(200);
      entries.push(...(page.body.entry ?? []));
      url = page.body.link?.find((l) => l.relation === 'next')?.url?.slice(ws.baseUrl.length + 1);
    }
    return entries;
  };
  const keys = (entries: BundleEntry[], mode: string) =>
    entries.filter((e) => e.search?.mode === mode).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

  /** A LOINC code that some but not all patients have, for selective queries. */
  const splittingCode = () => {
    const patientsWith = new Map<string, Set<string>>();
    for (const o of of('Observation')) {
      for (const code of codes(o)) {
        const set = patientsWith.get(code) ?? new Set<string>();
        set.add((o.subject as Ref).reference!);
        patientsWith.set(code, set);
      }
    }
    const [code] = [...patientsWith].find(([, s]) => s.size > 1 && s.size < of('Patient').length) ?? [];
    expect(code, 'a code that splits the patients').toBeDefined();
    return code!;
  };

  it('chains one level, with and without a type modifier', async () => {
    for (const p of of('Patient').slice(0, 3)) {
      const family = (p.name as Array<{ family: string }>)[0]!.family;
      const patients = new Set(of('Patient').filter((q) => (q.name as Array<{ family: string }>).some((n) => fold(n.family).startsWith(fold(family)))).map((q) => `Patient/${q.id}`));
      const expected = of('Observation').filter((o) => patients.has((o.subject as Ref).reference!)).length;
      expect(expected).toBeGreaterThan(0);
      expect(await count(`Observation?subject.family=${encodeURIComponent(family)}`)).toBe(expected);
      expect(await count(`Observation?subject:Patient.family=${encodeURIComponent(family)}`)).toBe(expected);
      // A chain through another target type finds none of these patients' observations.
      expect(await count(`Observation?subject:Location.name=${encodeURIComponent(family)}`)).toBe(0);
    }
  });

  it('chains two levels: observations by the name of their encounter\'s service provider', async () => {
    const obs = of('Observation').find((o) => get((get((o.encounter as Ref | undefined)?.reference)?.serviceProvider as Ref | undefined)?.reference));
    expect(obs, 'an observation whose encounter has a stored service provider').toBeDefined();
    const org = get((get((obs!.encounter as Ref).reference)!.serviceProvider as Ref).reference)!;
    const name = org.name as string;
    const orgs = new Set(of('Organization').filter((o) => fold(o.name as string).startsWith(fold(name))).map((o) => `Organization/${o.id}`));
    const encounters = new Set(of('Encounter').filter((e) => orgs.has((e.serviceProvider as Ref | undefined)?.reference ?? '')).map((e) => `Encounter/${e.id}`));
    const expected = of('Observation').filter((o) => encounters.has((o.encounter as Ref | undefined)?.reference ?? '')).length;
    expect(expected).toBeGreaterThan(0);
    expect(await count(`Observation?encounter.service-provider.name=${encodeURIComponent(name)}`)).toBe(expected);
  });

  it('_has, and _has nested in _has', async () => {
    const code = splittingCode();
    const withCode = new Set(of('Observation').filter((o) => codes(o).includes(code)).map((o) => (o.subject as Ref).reference!));
    expect(await count(`Patient?_has:Observation:subject:code=${code}`)).toBe(withCode.size);
    const found = keys(await walk(`Patient?_has:Observation:patient:code=${code}&_count=2`), 'match');
    expect(found).toEqual([...withCode].sort());
    // Patients having an encounter that has an observation with the code.
    const encs = new Set(of('Observation').filter((o) => codes(o).includes(code)).map((o) => (o.encounter as Ref | undefined)?.reference).filter(Boolean));
    const viaEnc = new Set(of('Encounter').filter((e) => encs.has(`Encounter/${e.id}`)).map((e) => (e.subject as Ref).reference));
    expect(await count(`Patient?_has:Encounter:subject:_has:Observation:encounter:code=${code}`)).toBe(viaEnc.size);
  });

  it('_include, _include:iterate and _revinclude add exactly the referenced and referring resources', async () => {
    const code = splittingCode();
    const matches = of('Observation').filter((o) => codes(o).includes(code));
    const entries = await walk(`Observation?code=${code}&_include=Observation:subject&_include=Observation:encounter&_include:iterate=Encounter:service-provider&_count=1000`);
    expect(keys(entries, 'match')).toEqual(matches.map((o) => `Observation/${o.id}`).sort());
    const encounters = [...new Set(matches.map((o) => (o.encounter as Ref).reference!))];
    const orgs = [...new Set(encounters.map((e) => (get(e)!.serviceProvider as Ref | undefined)?.reference).filter((r): r is string => !!r))];
    const subjects = [...new Set(matches.map((o) => (o.subject as Ref).reference!))];
    expect(keys(entries, 'include')).toEqual([...subjects, ...encounters, ...orgs].sort());

    const p = of('Patient')[0]!;
    const rev = await walk(`Patient?_id=${p.id}&_revinclude=Encounter:subject&_revinclude=Condition:subject`);
    const expected = [...of('Encounter'), ...of('Condition')].filter((r) => (r.subject as Ref).reference === `Patient/${p.id}`);
    expect(keys(rev, 'include')).toEqual(expected.map((r) => `${r.resourceType}/${r.id}`).sort());
    expect(keys(rev, 'match')).toEqual([`Patient/${p.id}`]);
  });

  it('_sort by several fields, ties broken by id, in both directions', async () => {
    const got = keys(await walk('Patient?_sort=gender,-birthdate&_count=2'), 'match');
    expect(got.length).toBe(of('Patient').length);
    const ordered = (await walk('Patient?_sort=gender,-birthdate&_count=2')).map((e) => e.resource as Any);
    const expected = [...of('Patient')].sort((a, b) => {
      const g = String(a.gender).localeCompare(String(b.gender));
      if (g !== 0) return g;
      const d = String(b.birthDate).localeCompare(String(a.birthDate));
      return d !== 0 ? d : String(a.id) < String(b.id) ? -1 : 1;
    });
    expect(ordered.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    // All equal keys: the order is by id alone, the same on every request.
    const same = (await walk('Patient?_sort=_tag&_count=3')).map((e) => e.resource!.id!);
    expect(same).toEqual(of('Patient').map((p) => p.id!).sort());
  });

  it('pages back with previous links to exactly the pages seen going forward', async () => {
    const pages: string[][] = [];
    let body = (await c.get<Bundle>('Encounter?_sort=-date&_count=25')).body;
    for (;;) {
      pages.push((body.entry ?? []).map((e) => e.resource!.id!));
      const next = body.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      body = (await c.get<Bundle>(next.slice(ws.baseUrl.length + 1))).body;
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(new Set(pages.flat()).size).toBe(of('Encounter').length);
    for (let i = pages.length - 2; i >= 0; i--) {
      const prev = body.link?.find((l) => l.relation === 'previous')?.url;
      expect(prev, `page ${i + 2} has a previous link`).toBeDefined();
      body = (await c.get<Bundle>(prev!.slice(ws.baseUrl.length + 1))).body;
      expect((body.entry ?? []).map((e) => e.resource!.id!)).toEqual(pages[i]);
    }
    expect(body.link?.find((l) => l.relation === 'previous')).toBeUndefined();
  });

  it('compartment search and system search', async () => {
    const code = splittingCode();
    for (const p of of('Patient').slice(0, 3)) {
      const ref = `Patient/${p.id}`;
      const obs = of('Observation').filter((o) => (o.subject as Ref).reference === ref);
      expect(await count(`Patient/${p.id}/Observation`)).toBe(obs.length);
      expect(await count(`Patient/${p.id}/Observation?code=${code}`)).toBe(obs.filter((o) => codes(o).includes(code)).length);
    }
    expect((await c.get('Patient/x/Organization')).status).toBe(404);
    expect((await c.get('Organization/x/Patient')).status).toBe(404);
    expect(await count('?_type=Patient,Encounter')).toBe(of('Patient').length + of('Encounter').length);
    const p = of('Patient')[0]!;
    expect(keys(await walk(`?_id=${p.id}`), 'match')).toEqual([`Patient/${p.id}`]);
  });

  it('Patient/$everything returns the compartment and what it references, paged', async () => {
    const bundle = perBundle[0]!;
    const p = bundle.find((r) => r.resourceType === 'Patient')!;
    const ref = `Patient/${p.id}`;
    // Independently: every resource that references the patient (Synthea puts patient
    // links in compartment parameters), the patient, and whatever those reference.
    const refsOf = (r: Any) => [...JSON.stringify(r).matchAll(/"reference":"([A-Za-z]+\/[A-Za-z0-9\-.]+)"/g)].map((m) => m[1]!);
    const members = all.filter((r) => r === p || refsOf(r).includes(ref));
    const expected = new Set(members.map((r) => `${r.resourceType}/${r.id}`));
    for (const m of members) for (const t of refsOf(m)) if (get(t)) expected.add(t);
    const got = await walk(`Patient/${p.id}/$everything?_count=100`);
    expect(keys(got, 'match')).toEqual([...expected].sort());
    expect((await c.get<Bundle>(`Patient/${p.id}/$everything?_summary=count`)).body.total).toBe(expected.size);
    const typed = keys(await walk(`Patient/${p.id}/$everything?_type=Encounter&_count=500`), 'match');
    expect(typed).toEqual([...expected].filter((k) => k.startsWith('Encounter/')).sort());
    expect((await c.get('Patient/does-not-exist/$everything')).status).toBe(404);
  });

  it('bad search input gets a 400 OperationOutcome or a warning, never a fault', async () => {
    for (const q of ['Patient?_cursor=n.!!!', 'Patient?_cursor=x', 'Patient?_sort=no-such-param', 'Patient?_total=maybe', 'Patient?_count=-1', '?_type=NoSuchType']) {
      const r = await c.get<OperationOutcome>(q);
      expect(r.status, q).toBe(400);
      expect(r.body.resourceType, q).toBe('OperationOutcome');
    }
    for (const q of ['Patient?_include=Patient:no-such-ref', 'Patient?_revinclude=Nothing:x', 'Patient?_contained=true', 'Observation?subject.no-such=1', 'Patient?_has:Observation:code:code=x']) {
      const lenient = await c.get<Bundle>(q);
      expect(lenient.status, q).toBe(200);
      expect(lenient.body.entry?.some((e) => e.search?.mode === 'outcome'), q).toBe(true);
      expect((await c.get(q, { prefer: 'handling=strict' })).status, q).toBe(400);
    }
  });
});
