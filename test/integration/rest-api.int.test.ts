/**
 * The FHIR R4 REST interactions over real HTTP: create/read/vread/update/delete/patch,
 * history, conditional interactions, headers and Prefer, _summary/_elements, paging,
 * $validate, batch/transaction semantics, and the error catalogue (each an
 * OperationOutcome with the right status, and a rejected request changes nothing).
 */
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

let ws: RunningWorkstation;
let c: FhirClient;

beforeAll(async () => {
  ws = await startWorkstation({ args: ['--max-body-bytes', '200000'] });
  c = ws.client();
});
afterAll(async () => {
  await ws?.stop();
  removeDir(ws.dataDir);
});

const patient = (id?: string, family = 'Smith'): Patient => ({
  resourceType: 'Patient',
  ...(id ? { id } : {}),
  name: [{ family, given: ['Ann'] }],
  gender: 'female',
  birthDate: '1970-01-01',
});

async function systemHistoryTotal(): Promise<number> {
  return (await c.get<Bundle>('_history?_count=0')).body.total ?? -1;
}

function expectOutcome(body: unknown): asserts body is OperationOutcome {
  expect((body as OperationOutcome).resourceType).toBe('OperationOutcome');
  expect((body as OperationOutcome).issue.length).toBeGreaterThan(0);
}

describe('create, read, vread, update, delete', () => {
  it('creates with a server id, Location and ETag', async () => {
    const res = await c.post<Patient>('Patient', patient('ignored-id'));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('ignored-id');
    expect(res.headers.get('location')).toMatch(new RegExp(`/fhir/Patient/${res.body.id}/_history/${res.body.meta!.versionId}$`));
    expect(res.headers.get('etag')).toBe(`W/"${res.body.meta!.versionId}"`);
    expect(res.headers.get('last-modified')).toBeTruthy();
    const read = await c.get<Patient>(`Patient/${res.body.id}`);
    expect(read.body).toEqual(res.body);
  });

  it('updates as create with a client id, then versions each update', async () => {
    const v1 = await c.put<Patient>('Patient/upd-1', patient('upd-1'));
    expect(v1.status).toBe(201);
    const v2 = await c.put<Patient>('Patient/upd-1', patient('upd-1', 'Jones'));
    expect(v2.status).toBe(200);
    expect(v2.body.meta!.versionId).not.toBe(v1.body.meta!.versionId);
    expect(Date.parse(v2.body.meta!.lastUpdated!)).toBeGreaterThan(Date.parse(v1.body.meta!.lastUpdated!));
    const old = await c.get<Patient>(`Patient/upd-1/_history/${v1.body.meta!.versionId}`);
    expect(old.status).toBe(200);
    expect(old.body.name![0]!.family).toBe('Smith');
    const hist = await c.get<Bundle>('Patient/upd-1/_history');
    expect(hist.body.type).toBe('history');
    expect(hist.body.entry!.map((e) => e.resource?.meta?.versionId)).toEqual([v2.body.meta!.versionId, v1.body.meta!.versionId]);
  });

  it('enforces If-Match (412) and If-None-Match: * on update', async () => {
    const v1 = await c.put<Patient>('Patient/im-1', patient('im-1'));
    const bad = await c.put('Patient/im-1', patient('im-1', 'X'), { 'if-match': 'W/"0.nope"' });
    expect(bad.status).toBe(412);
    expectOutcome(bad.body);
    const good = await c.put('Patient/im-1', patient('im-1', 'Y'), { 'if-match': `W/"${v1.body.meta!.versionId}"` });
    expect(good.status).toBe(200);
    const exists = await c.put('Patient/im-1', patient('im-1', 'Z'), { 'if-none-match': '*' });
    expect(exists.status).toBe(412);
  });

  it('answers 304 for If-None-Match and If-Modified-Since', async () => {
    const v1 = await c.put<Patient>('Patient/cond-read', patient('cond-read'));
    const etag = v1.headers.get('etag')!;
    expect((await c.get('Patient/cond-read', { 'if-none-match': etag })).status).toBe(304);
    expect((await c.get('Patient/cond-read', { 'if-none-match': 'W/"other"' })).status).toBe(200);
    const lm = v1.headers.get('last-modified')!;
    expect((await c.get('Patient/cond-read', { 'if-modified-since': lm })).status).toBe(304);
    expect((await c.get('Patient/cond-read', { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status).toBe(200);
  });

  it('records delete as a version: read 410, vread of the deleted version 410, history keeps it', async () => {
    const v1 = await c.put<Patient>('Patient/del-1', patient('del-1'));
    const del = await c.delete('Patient/del-1');
    expect(del.status).toBe(200);
    const read = await c.get('Patient/del-1');
    expect(read.status).toBe(410);
    expectOutcome(read.body);
    expect((await c.get(`Patient/del-1/_history/${v1.body.meta!.versionId}`)).status).toBe(200);
    const hist = await c.get<Bundle>('Patient/del-1/_history');
    expect(hist.body.entry).toHaveLength(2);
    expect(hist.body.entry![0]!.request!.method).toBe('DELETE');
    expect(hist.body.entry![0]!.resource).toBeUndefined();
    const deletedVid = /W\/"(.+)"/.exec(hist.body.entry![0]!.response!.etag!)![1];
    expect((await c.get(`Patient/del-1/_history/${deletedVid}`)).status).toBe(410);
    // Deleting again is idempotent and writes nothing.
    expect((await c.delete('Patient/del-1')).status).toBe(204);
    expect((await c.get<Bundle>('Patient/del-1/_history')).body.entry).toHaveLength(2);
    // Re-creating after delete continues the history.
    const again = await c.put<Patient>('Patient/del-1', patient('del-1'));
    expect(again.status).toBe(201);
    expect((await c.get<Bundle>('Patient/del-1/_history')).body.entry).toHaveLength(3);
  });

  it('answers 404 for unknown ids and types', async () => {
    const r = await c.get('Patient/never-was');
    expect(r.status).toBe(404);
    expectOutcome(r.body);
    const t = await c.get('Spaceship/1');
    expect(t.status).toBe(404);
    expectOutcome(t.body);
  });
});

describe('Prefer, _summary, _elements, _format, _pretty', () => {
  it('honours Prefer: return=minimal | OperationOutcome | representation', async () => {
    const min = await c.put('Patient/pref-1', patient('pref-1'), { prefer: 'return=minimal' });
    expect(min.status).toBe(201);
    expect(min.body).toBeUndefined();
    expect(min.headers.get('etag')).toBeTruthy();
    const oo = await c.put('Patient/pref-1', patient('pref-1'), { prefer: 'return=OperationOutcome' });
    expectOutcome(oo.body);
    const rep = await c.put<Patient>('Patient/pref-1', patient('pref-1'), { prefer: 'return=representation' });
    expect(rep.body.resourceType).toBe('Patient');
  });

  it('shapes reads with _summary and _elements and marks them SUBSETTED', async () => {
    await c.put('Patient/shape-1', { ...patient('shape-1'), text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } });
    const el = await c.get<Patient>('Patient/shape-1?_elements=gender');
    expect(Object.keys(el.body).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
    expect(el.body.meta!.tag!.some((t) => t.code === 'SUBSETTED')).toBe(true);
    const sum = await c.get<Patient>('Patient/shape-1?_summary=true');
    expect(sum.body.name).toBeDefined();
    expect(sum.body.text).toBeUndefined();
    const text = await c.get<Patient>('Patient/shape-1?_summary=text');
    expect(text.body.text).toBeDefined();
    expect(text.body.name).toBeUndefined();
    expect((await c.get('Patient/shape-1?_summary=bogus')).status).toBe(400);
  });

  it('accepts _format=json, refuses XML with 406, pretty-prints on request', async () => {
    expect((await c.get('Patient/shape-1?_format=json')).status).toBe(200);
    const xml = await c.get('Patient/shape-1?_format=xml');
    expect(xml.status).toBe(406);
    expectOutcome(xml.body);
    const acc = await c.get('Patient/shape-1', { accept: 'application/fhir+xml' });
    expect(acc.status).toBe(406);
    const raw = await fetch(`${ws.baseUrl}/Patient/shape-1?_pretty=true`);
    expect(await raw.text()).toContain('\n  "resourceType"');
  });
});

describe('errors change nothing', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, number]> = [
    ['malformed JSON', () => c.request('PUT', 'Patient/e1', '{"resourceType": "Patient",'), 400],
    ['id in body differs from URL', () => c.put('Patient/e2', patient('other')), 400],
    ['missing id in body on update', () => c.put('Patient/e3', patient()), 400],
    ['invalid id', () => c.put('Patient/bad_id!', patient('bad_id!')), 400],
    ['wrong resourceType for the URL', () => c.put('Observation/e4', patient('e4')), 400],
    ['invalid resource (unknown element)', () => c.put('Patient/e5', { ...patient('e5'), colour: 'blue' }), 400],
    ['invalid date format', () => c.put('Patient/e6', { ...patient('e6'), birthDate: '1970-13-45' }), 400],
    ['unsupported media type', () => c.request('PUT', 'Patient/e7', JSON.stringify(patient('e7')), { 'content-type': 'application/xml' }), 415],
    ['body over the limit', () => c.put('Patient/e8', { ...patient('e8'), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(300_000)}</div>` } }), 413],
    ['unknown type', () => c.post('Spaceship', { resourceType: 'Spaceship' }), 404],
    ['wrong method', () => c.request('PUT', '_history', patient()), 405],
    ['patch of a missing resource', () => c.patch('Patient/e9', [], { 'content-type': 'application/json-patch+json' }), 404],
    ['transaction with a failing entry', () => c.post('', { resourceType: 'Bundle', type: 'transaction', entry: [
      { fullUrl: 'urn:uuid:1', resource: patient(), request: { method: 'POST', url: 'Patient' } },
      { resource: { ...patient('t2'), birthDate: 'nope' }, request: { method: 'PUT', url: 'Patient/t2' } },
    ] }), 400],
  ];
  for (const [name, run, status] of cases) {
    it(`${name}: ${status} with an OperationOutcome, nothing stored`, async () => {
      const before = await systemHistoryTotal();
      const res = await run();
      expect(res.status).toBe(status);
      expectOutcome(res.body);
      expect(await systemHistoryTotal()).toBe(before);
    });
  }

  it('accepts a BOM-prefixed body', async () => {
    const res = await c.request('PUT', 'Patient/bom-1', `\ufeff${JSON.stringify(patient('bom-1'))}`);
    expect(res.status).toBe(201);
  });

  it('keeps serving after errors', async () => {
    expect((await c.get('metadata')).status).toBe(200);
  });
});

describe('PATCH', () => {
  it('applies JSON Patch and FHIRPath Patch as new versions', async () => {
    await c.put('Patient/p-1', patient('p-1'));
    const jp = await c.patch<Patient>('Patient/p-1', [{ op: 'replace', path: '/gender', value: 'male' }], { 'content-type': 'application/json-patch+json' });
    expect(jp.status).toBe(200);
    expect(jp.body.gender).toBe('male');
    const fp = await c.patch<Patient>('Patient/p-1', {
      resourceType: 'Parameters',
      parameter: [{ name: 'operation', part: [
        { name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.birthDate' }, { name: 'value', valueDate: '1980-02-02' },
      ] }],
    });
    expect(fp.status).toBe(200);
    expect(fp.body.birthDate).toBe('1980-02-02');
    expect((await c.get<Bundle>('Patient/p-1/_history')).body.entry).toHaveLength(3);
  });

  it('rejects a patch that makes the resource invalid, storing nothing', async () => {
    const before = (await c.get<Bundle>('Patient/p-1/_history')).body.entry!.length;
    const bad = await c.patch('Patient/p-1', [{ op: 'add', path: '/colour', value: 'x' }], { 'content-type': 'application/json-patch+json' });
    expect(bad.status).toBe(400);
    expect((await c.get<Bundle>('Patient/p-1/_history')).body.entry).toHaveLength(before);
    const failedTest = await c.patch('Patient/p-1', [{ op: 'test', path: '/gender', value: 'female' }], { 'content-type': 'application/json-patch+json' });
    expect(failedTest.status).toBe(422);
  });
});

describe('conditional interactions', () => {
  const ident = (v: string) => ({ ...patient(), identifier: [{ system: 'http://clinic.example/mrn', value: v }] });

  it('conditional create returns the existing match', async () => {
    const a = await c.post<Patient>('Patient', ident('cc-1'), { 'if-none-exist': 'identifier=http://clinic.example/mrn|cc-1' });
    expect(a.status).toBe(201);
    const b = await c.post<Patient>('Patient', ident('cc-1'), { 'if-none-exist': 'identifier=http://clinic.example/mrn|cc-1' });
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
  });

  it('conditional update creates, then updates the one match; 412 on several', async () => {
    const first = await c.put<Patient>('Patient?identifier=http://clinic.example/mrn|cu-1', ident('cu-1'));
    expect(first.status).toBe(201);
    const second = await c.put<Patient>('Patient?identifier=http://clinic.example/mrn|cu-1', { ...ident('cu-1'), gender: 'male' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    await c.post('Patient', ident('cu-dup'));
    await c.post('Patient', ident('cu-dup'));
    const many = await c.put('Patient?identifier=http://clinic.example/mrn|cu-dup', ident('cu-dup'));
    expect(many.status).toBe(412);
  });

  it('conditional delete removes every match', async () => {
    await c.post('Patient', ident('cd-1'));
    await c.post('Patient', ident('cd-1'));
    const del = await c.delete('Patient?identifier=http://clinic.example/mrn|cd-1');
    expect(del.status).toBe(200);
    const left = await c.get<Bundle>('Patient?identifier=http://clinic.example/mrn|cd-1');
    expect(left.body.total).toBe(0);
  });

  it('refuses criteria it cannot evaluate instead of widening the match', async () => {
    const res = await c.delete('Patient?not-a-param=1');
    expect(res.status).toBe(400);
    expectOutcome(res.body);
  });
});

describe('history and paging', () => {
  it('pages type history with _count and next links, without repeats', async () => {
    for (let i = 0; i < 7; i++) await c.put(`Basic/h-${i}`, { resourceType: 'Basic', id: `h-${i}`, code: { text: 'h' } });
    const seen: string[] = [];
    let url: string | undefined = 'Basic/_history?_count=3';
    let pages = 0;
    while (url && pages < 10) {
      const page: { body: Bundle } = await c.get<Bundle>(url);
      expect(page.body.entry!.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.entry!.map((e) => `${e.resource!.id}@${e.resource!.meta!.versionId}`));
      const next = page.body.link?.find((l) => l.relation === 'next')?.url;
      url = next?.slice(ws.baseUrl.length + 1);
      pages++;
      if (pages === 1) await c.put('Basic/h-new', { resourceType: 'Basic', id: 'h-new', code: { text: 'h' } });
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(7);
  });

  it('filters history with _since and _at', async () => {
    await c.put('Basic/t-1', { resourceType: 'Basic', id: 't-1', code: { text: 'a' } });
    await new Promise((r) => setTimeout(r, 20));
    const mid = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await c.put('Basic/t-1', { resourceType: 'Basic', id: 't-1', code: { text: 'b' } });
    const since = await c.get<Bundle>(`Basic/t-1/_history?_since=${encodeURIComponent(mid)}`);
    expect(since.body.entry!.map((e) => (e.resource as { code: { text: string } }).code.text)).toEqual(['b']);
    const at = await c.get<Bundle>(`Basic/t-1/_history?_at=${encodeURIComponent(mid)}`);
    expect(at.body.entry!.map((e) => (e.resource as { code: { text: string } }).code.text)).toEqual(['a']);
  });

  it('lists a type as a searchset with paging', async () => {
    const res = await c.get<Bundle>('Basic?_count=2');
    expect(res.body.type).toBe('searchset');
    expect(res.body.entry).toHaveLength(2);
    expect(res.body.total).toBeGreaterThan(2);
    expect(res.body.link!.some((l) => l.relation === 'next')).toBe(true);
  });

  it('gives searchsets first and last links besides self, previous and next, and history a first link', async () => {
    for (let i = 0; i < 5; i++) await c.put(`Basic/fl-${i}`, { resourceType: 'Basic', id: `fl-${i}`, code: { text: 'first-last' } });
    const rel = (b: Bundle, r: string) => b.link?.find((l) => l.relation === r)?.url;
    const get = async (url: string) => (await c.get<Bundle>(url.slice(url.indexOf('/fhir/') + '/fhir/'.length))).body;
    const ids = (b: Bundle) => (b.entry ?? []).map((e) => e.resource!.id);
    const page1 = (await c.get<Bundle>('Basic?code:text=first-last&_sort=_id&_count=2')).body;
    expect(page1.total).toBe(5);
    expect(ids(page1)).toEqual(['fl-0', 'fl-1']);
    expect(page1.link!.map((l) => l.relation)).toEqual(['self', 'first', 'next', 'last']);
    // first is the search itself; last holds the last _count entries and has no next.
    expect(ids(await get(rel(page1, 'first')!))).toEqual(['fl-0', 'fl-1']);
    const last = await get(rel(page1, 'last')!);
    expect(ids(last)).toEqual(['fl-3', 'fl-4']);
    expect(rel(last, 'next')).toBeUndefined();
    expect(ids(await get(rel(last, 'previous')!))).toEqual(['fl-1', 'fl-2']);
    // Walking next to the end meets the same last entry.
    let page = page1;
    const walked: string[] = [];
    for (;;) {
      walked.push(...(ids(page) as string[]));
      const next = rel(page, 'next');
      if (!next) break;
      page = await get(next);
    }
    expect(walked).toEqual(['fl-0', 'fl-1', 'fl-2', 'fl-3', 'fl-4']);
    const history = (await c.get<Bundle>('Basic/fl-0/_history?_count=1')).body;
    expect(rel(history, 'first')).toMatch(/\/fhir\/Basic\/fl-0\/_history\?_count=1$/);
  });
});

describe('$validate and metadata', () => {
  it('validates without storing', async () => {
    const before = await systemHistoryTotal();
    const ok = await c.post<OperationOutcome>('Patient/$validate', patient());
    expect(ok.status).toBe(200);
    expect(ok.body.issue.every((i) => i.severity !== 'error')).toBe(true);
    const bad = await c.post<OperationOutcome>('Patient/$validate', { ...patient(), birthDate: 'x' });
    expect(bad.status).toBe(200);
    expect(bad.body.issue.some((i) => i.severity === 'error')).toBe(true);
    expect(await systemHistoryTotal()).toBe(before);
  });

  it('refuses empty arrays, objects and strings (FHIR JSON has none) with 400, storing nothing', async () => {
    const before = await systemHistoryTotal();
    for (const [body, path] of [
      [{ ...patient(), name: [] }, 'Patient.name'],
      [{ ...patient(), gender: '' }, 'Patient.gender'],
      [{ ...patient(), meta: {} }, 'Patient.meta'],
    ] as const) {
      const r = await c.post<OperationOutcome>('Patient', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.issue.some((i) => i.severity === 'error' && i.expression?.includes(path))).toBe(true);
    }
    expect(await systemHistoryTotal()).toBe(before);
  });

  it('refuses codes outside a required value set with 400, storing nothing', async () => {
    const before = await systemHistoryTotal();
    const gender = await c.post<OperationOutcome>('Patient', { ...patient(), gender: 'banana' });
    expect(gender.status).toBe(400);
    expect(gender.body.issue.some((i) => i.code === 'code-invalid' && i.expression?.includes('Patient.gender'))).toBe(true);
    const status = await c.post<OperationOutcome>('Observation', { resourceType: 'Observation', status: 'bogus', code: { text: 'x' } });
    expect(status.status).toBe(400);
    expect(status.body.issue.some((i) => i.expression?.includes('Observation.status'))).toBe(true);
    const validated = await c.post<OperationOutcome>('Patient/$validate', { ...patient(), gender: 'banana' });
    expect(validated.body.issue.some((i) => i.severity === 'error' && i.expression?.includes('Patient.gender'))).toBe(true);
    expect(await systemHistoryTotal()).toBe(before);
  });

  it('serves a CapabilityStatement that matches the routes', async () => {
    const cs = await c.get<{ rest: Array<{ resource: Array<{ type: string; interaction: Array<{ code: string }> }>; interaction: Array<{ code: string }> }> }>('metadata');
    expect(cs.status).toBe(200);
    const patientRes = cs.body.rest[0]!.resource.find((r) => r.type === 'Patient')!;
    expect(patientRes.interaction.map((i) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread'],
    );
    expect(cs.body.rest[0]!.interaction.map((i) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
  });
});

describe('batch and transaction', () => {
  it('fails a transaction whose conditional entries resolve to the same resource, storing nothing', async () => {
    const mrn = 'urn:test:mrn|overlap-1';
    const transaction = (criteriaOrder: 'same' | 'reordered') => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: 'overlap-1' }], name: [{ family: 'Update' }], active: true },
          request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(mrn)}${criteriaOrder === 'reordered' ? '&active=true' : ''}` },
        },
        {
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: 'overlap-1' }], name: [{ family: 'Create' }], active: true },
          request: { method: 'POST', url: 'Patient', ifNoneExist: criteriaOrder === 'reordered' ? `active=true&identifier=${encodeURIComponent(mrn)}` : `identifier=${mrn}` },
        },
      ],
    });
    for (const order of ['same', 'reordered'] as const) {
      const r = await c.post<OperationOutcome>('', transaction(order));
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.issue[0]!.diagnostics).toMatch(/same Patient criteria/);
    }
    expect((await c.get<Bundle>(`Patient?identifier=${encodeURIComponent(mrn)}&_summary=count`)).body.total).toBe(0);
    // Different criteria are fine.
    const ok = await c.post<Bundle>('', {
      ...transaction('same'),
      entry: [transaction('same').entry[0]!, { ...transaction('same').entry[1]!, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test:mrn|overlap-2' } }],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });

  it('processes a transaction in spec order with urn:uuid references rewritten (including in extensions and contained)', async () => {
    const res = await c.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: 'Patient/tx-existing' } },
        {
          fullUrl: 'urn:uuid:obs-1',
          resource: {
            resourceType: 'Observation', status: 'final', code: { text: 'x' },
            subject: { reference: 'urn:uuid:pat-1' },
            extension: [{ url: 'http://example.org/ext', valueReference: { reference: 'urn:uuid:pat-1' } }],
            // A contained resource is referred to from its container or refers to it (dom-3): this one is the container's Provenance.
            contained: [{ resourceType: 'Provenance', id: 'c1', recorded: '2020-01-01T00:00:00Z', agent: [{ who: { reference: 'urn:uuid:pat-1' } }], target: [{ reference: '#' }, { reference: 'urn:uuid:pat-1' }] }],
          },
          request: { method: 'POST', url: 'Observation' },
        },
        { fullUrl: 'urn:uuid:pat-1', resource: patient(), request: { method: 'POST', url: 'Patient' } },
        { resource: patient('tx-existing'), request: { method: 'PUT', url: 'Patient/tx-existing' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    // GET ran after the PUT, so it sees the resource.
    expect(res.body.entry![0]!.response!.status).toMatch(/^200/);
    const patId = /Patient\/([^/]+)\/_history/.exec(res.body.entry![2]!.response!.location!)![1];
    const obs = res.body.entry![1]!.resource as { subject: { reference: string }; extension: Array<{ valueReference: { reference: string } }>; contained: Array<{ agent: Array<{ who: { reference: string } }> }> };
    expect(obs.subject.reference).toBe(`Patient/${patId}`);
    expect(obs.extension[0]!.valueReference.reference).toBe(`Patient/${patId}`);
    expect(obs.contained[0]!.agent[0]!.who.reference).toBe(`Patient/${patId}`);
  });

  it('fails a transaction whose conditional reference matches nothing, storing nothing', async () => {
    const before = await systemHistoryTotal();
    const res = await c.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:a', resource: patient(), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=http://nowhere|0' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(res.status).toBe(400);
    expectOutcome(res.body);
    expect(await systemHistoryTotal()).toBe(before);
  });

  it('runs batch entries independently', async () => {
    const res = await c.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('b-ok'), request: { method: 'PUT', url: 'Patient/b-ok' } },
        { resource: { ...patient('b-bad'), birthDate: 'x' }, request: { method: 'PUT', url: 'Patient/b-bad' } },
        { request: { method: 'GET', url: 'Patient/b-ok' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry!.map((e) => e.response!.status.slice(0, 3))).toEqual(['201', '400', '200']);
    expect(res.body.entry![1]!.response!.outcome!.resourceType).toBe('OperationOutcome');
  });
});
