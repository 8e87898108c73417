/**
 * FHIR decimals keep their exact text from request to storage to response (issue 12):
 * `1.10` stays `1.10` on create, read, vread, history, search, `_elements`, transactions,
 * patches (values they leave alone, and the values JSON Patch and FHIRPath Patch write), and across a restart; a number Flint cannot keep is
 * refused with 400 and nothing is stored; `eq` search uses the value's implicit precision.
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { startWorkstation, workstationForFile } from '../support/workstation';

const t = workstationForFile();

const observation = (id: string, value: string, extra = '') =>
  `{"resourceType":"Observation","id":"${id}","status":"final","code":{"text":"weight"},` +
  `"valueQuantity":{"value":${value},"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}${extra}}`;

const json = { 'content-type': 'application/fhir+json' };

describe('exact decimals', () => {
  it('keeps 1.10 on create, read, vread, history, search and _elements', async () => {
    const put = await t.c.put<Observation>('Observation/d1', observation('d1', '1.10', ',"component":[{"code":{"text":"a"},"valueQuantity":{"value":100.0}}]'), json);
    expect(put.status).toBe(201);
    expect(put.text).toContain('"value":1.10');
    const vid = put.body.meta!.versionId!;
    for (const path of ['Observation/d1', `Observation/d1/_history/${vid}`, 'Observation/d1/_history', 'Observation?_id=d1', 'Observation/d1?_elements=valueQuantity,component']) {
      const got = await t.c.get(path);
      expect(got.status, path).toBe(200);
      expect(got.text, path).toContain('"value":1.10');
      expect(got.text, path).toContain('"value":100.0');
    }
    // Pretty printing keeps them too.
    expect((await t.c.get('Observation/d1?_pretty=true')).text).toContain('"value": 1.10');
  });

  it('keeps a decimal that a double cannot hold, digit for digit', async () => {
    const big = '1234567890123456789.0123456789';
    expect((await t.c.put('Observation/d2', observation('d2', big), json)).status).toBe(201);
    expect((await t.c.get('Observation/d2')).text).toContain(`"value":${big}`);
  });

  it('refuses a number it cannot keep, with 400, and stores nothing', async () => {
    const res = await t.c.put('Observation/d3', observation('d3', '1e400'), json);
    expect(res.status).toBe(400);
    expect((res.body as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await t.c.get('Observation/d3')).status).toBe(404);
  });

  it('refuses an integer written with a fraction (1.0 is a decimal, not an integer), and stores nothing', async () => {
    const body = '{"resourceType":"Observation","id":"d8","status":"final","code":{"text":"count"},"valueInteger":1.0}';
    const res = await t.c.put<{ resourceType: string; issue: Array<{ expression?: string[] }> }>('Observation/d8', body, json);
    expect(res.status).toBe(400);
    expect(res.body.issue.flatMap((i) => i.expression ?? [])).toContain('Observation.valueInteger');
    expect((await t.c.get('Observation/d8')).status).toBe(404);
  });

  it('keeps them through a transaction, with the entries returned', async () => {
    const bundle =
      '{"resourceType":"Bundle","type":"transaction","entry":[' +
      `{"fullUrl":"urn:uuid:4b0f6a4c-1e1a-4e59-9a53-7c1c3c1e0a01","resource":${observation('x', '37.50').replace('"id":"x",', '')},"request":{"method":"POST","url":"Observation"}},` +
      `{"resource":${observation('d4', '0.050')},"request":{"method":"PUT","url":"Observation/d4"}}]}`;
    const res = await t.c.post<Bundle>('', bundle, { ...json, prefer: 'return=representation' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('"value":37.50');
    expect(res.text).toContain('"value":0.050');
    expect((await t.c.get('Observation/d4')).text).toContain('"value":0.050');
  });

  it('a patch that leaves the value alone keeps its text; an update that changes it does not resurrect the old text', async () => {
    await t.c.put('Observation/d5', observation('d5', '2.50'), json);
    const patched = await t.c.patch('Observation/d5', [{ op: 'replace', path: '/status', value: 'amended' }], { 'content-type': 'application/json-patch+json' });
    expect(patched.status).toBe(200);
    expect((await t.c.get('Observation/d5')).text).toContain('"value":2.50');
    const replaced = await t.c.patch('Observation/d5', [{ op: 'replace', path: '/valueQuantity/value', value: 3 }], { 'content-type': 'application/json-patch+json' });
    expect(replaced.status).toBe(200);
    expect((await t.c.get('Observation/d5')).text).toContain('"value":3,');
    expect((await t.c.put('Observation/d5', observation('d5', '2.5'), json)).status).toBe(200);
    expect((await t.c.get('Observation/d5')).text).toContain('"value":2.5,');
  });

  it('a JSON Patch writes a decimal as sent (1.10), carries it on move and copy, and drops it on remove', async () => {
    await t.c.put('Observation/d6', observation('d6', '2.5', ',"component":[{"code":{"text":"a"},"valueQuantity":{"value":0.50}}]'), json);
    const jp = { 'content-type': 'application/json-patch+json' };
    const r1 = await t.c.patch('Observation/d6', '[{"op":"replace","path":"/valueQuantity/value","value":1.10},{"op":"add","path":"/component/-","value":{"code":{"text":"b"},"valueQuantity":{"value":7.000}}}]', jp);
    expect(r1.status).toBe(200);
    const got = (await t.c.get('Observation/d6')).text;
    expect(got).toContain('"valueQuantity":{"value":1.10');
    expect(got).toContain('"value":0.50');
    expect(got).toContain('"value":7.000');
    const r2 = await t.c.patch('Observation/d6', '[{"op":"copy","from":"/component/0/valueQuantity","path":"/valueQuantity"},{"op":"remove","path":"/component/1"}]', jp);
    expect(r2.status).toBe(200);
    const after = (await t.c.get('Observation/d6')).text;
    expect(after).toContain('"valueQuantity":{"value":0.50');
    expect(after).not.toContain('7.000');
  });

  it('a FHIRPath Patch writes a decimal as sent and keeps the texts it leaves alone', async () => {
    await t.c.put('Observation/d7', observation('d7', '2.5', ',"component":[{"code":{"text":"a"},"valueQuantity":{"value":0.50}}]'), json);
    const body =
      '{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},' +
      '{"name":"path","valueString":"Observation.value.value"},{"name":"value","valueDecimal":72.250}]}]}';
    expect((await t.c.patch('Observation/d7', body, json)).status).toBe(200);
    const got = (await t.c.get('Observation/d7')).text;
    expect(got).toContain('"valueQuantity":{"value":72.250');
    expect(got).toContain('"value":0.50');
  });

  it('searches by implicit precision on both sides: the stored text counts (5.40 is not 5.4)', async () => {
    await t.c.put('Observation/d6', observation('d6', '5.4'), json);
    await t.c.put('Observation/d7', observation('d7', '5.40'), json);
    const ids = async (q: string) =>
      ((await t.c.get<Bundle>(`Observation?_id=d6,d7&${q}`)).body.entry ?? []).map((e) => e.resource?.id).sort();
    // eq: the search range [low, high) contains the stored value's range.
    expect(await ids('value-quantity=5')).toEqual(['d6', 'd7']); // [4.5, 5.5)
    expect(await ids('value-quantity=5.4')).toEqual(['d6', 'd7']); // [5.35, 5.45)
    expect(await ids('value-quantity=5.40')).toEqual(['d7']); // [5.395, 5.405) holds 5.40's range, not 5.4's
    expect(await ids('value-quantity=5.41')).toEqual([]);
    expect(await ids('value-quantity=ne5.40')).toEqual(['d6']);
  });

  it('a transaction large enough to have its index rows extracted on the receive worker is searchable at once, by exact precision', async () => {
    // 120 entries (WORKER_MIN is 100): the first starts the worker, later ones have their rows
    // extracted there while the store commits them; either way the answer must be the same.
    const bundle = (tag: string) =>
      '{"resourceType":"Bundle","type":"transaction","entry":[' +
      Array.from({ length: 120 }, (_, i) => {
        const body = observation(`${tag}-${i}`, i % 2 ? '6.40' : '6.4', `,"identifier":[{"system":"urn:test:big-tx","value":"${tag}"}]`);
        return `{"resource":${body},"request":{"method":"PUT","url":"Observation/${tag}-${i}"}}`;
      }).join(',') +
      ']}';
    const count = async (tag: string, q: string) =>
      (await t.c.get<Bundle>(`Observation?identifier=urn:test:big-tx|${tag}&${q}&_summary=count`)).body.total;
    for (const tag of ['first', 'second', 'third']) {
      expect((await t.c.post<Bundle>('', bundle(tag), json)).status).toBe(200);
      expect(await count(tag, 'value-quantity=6.40')).toBe(60);
      expect(await count(tag, 'value-quantity=6.4')).toBe(120);
      expect(await count(tag, 'value-quantity=ne6.40')).toBe(60);
      await new Promise((r) => setTimeout(r, 1000)); // time for the worker to load its definitions
    }
  });

  it('keeps them across a restart (they are stored, not only cached)', async () => {
    expect(await t.ws.stop()).toBe(0);
    // The same data dir again; workstationForFile stops and removes it after the file.
    t.ws = await startWorkstation({ dataDir: t.ws.dataDir });
    t.c = t.ws.client();
    expect((await t.c.get('Observation/d1')).text).toContain('"value":1.10');
    expect((await t.c.get('Observation/d2')).text).toContain('"value":1234567890123456789.0123456789');
  });
});
