/**
 * Hostile input over real HTTP. A property-based test (fast-check) sends random methods,
 * paths, headers and bodies (test/support/http-fuzz.ts) to a running server and checks
 * after every request:
 *  - no 5xx, and no batch/transaction entry reporting one;
 *  - every non-2xx response with a body is an OperationOutcome (application/fhir+json);
 *  - a rejected request (4xx) changes no state: the system history (total and newest
 *    entry) is the same before and after it;
 *  - the server stays up: the process runs and GET metadata answers 200.
 * Then fixed cases: the error statuses the FHIR API promises (400, 404, 409/412, 410,
 * 413, 415, and a BOM-prefixed body accepted), and a body over --max-body-bytes.
 * FLINT_FUZZ_SEED=<n> and FLINT_FUZZ_RUNS=<n> replay or widen the property run.
 */
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { describeRequest, droppedByTransport, fuzzRequestArb, replyProblems, type FuzzContext, type FuzzRequest } from '../support/http-fuzz';
import { forgetDataDir } from '../support/keychain';
import { jsonOf, NoResponseError, originOf, rawRequest, type RawReply, type RawRequest } from '../support/raw-http';
import { startWorkstation, type RunningWorkstation } from '../support/workstation';

const RUNS = Number(process.env.FLINT_FUZZ_RUNS ?? 500);
const TIME_LIMIT_MS = 60_000;

let ws: RunningWorkstation;
let origin: string;
let client: FhirClient;
/** Bearer tokens by origin: every request is authenticated unless it sends its own Authorization. */
const tokens = new Map<string, string>();
const raw = (o: string, req: RawRequest) =>
  rawRequest(o, { ...req, headers: { authorization: `Bearer ${tokens.get(o) ?? ''}`, ...req.headers } });

beforeAll(async () => {
  ws = await startWorkstation();
  origin = originOf(ws.baseUrl);
  tokens.set(origin, ws.token);
  client = ws.client();
});
afterAll(async () => {
  await ws?.stop();
  await forgetDataDir(ws?.dataDir);
});

/** The state fingerprint: system history total and its newest entry. */
async function snapshot(): Promise<string> {
  const res = await raw(origin, { method: 'GET', path: '/fhir/_history?_count=1', headers: { accept: 'application/fhir+json' } });
  expect(res.status, `history snapshot: ${res.text.slice(0, 200)}`).toBe(200);
  const b = JSON.parse(res.text) as Bundle;
  const e = b.entry?.[0];
  return JSON.stringify([b.total, e?.fullUrl, e?.response?.etag, e?.request?.method]);
}

async function alive(): Promise<void> {
  expect(ws.proc.exitCode, `server exited:\n${ws.output().slice(-2000)}`).toBeNull();
  const meta = await raw(origin, { method: 'GET', path: '/fhir/metadata', timeoutMs: 10_000 });
  expect(meta.status).toBe(200);
  expect((jsonOf(meta) as { resourceType?: string }).resourceType).toBe('CapabilityStatement');
}

function expectOutcome(reply: RawReply, status: number): OperationOutcome {
  expect(reply.status, reply.text.slice(0, 300)).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const oo = jsonOf(reply) as OperationOutcome;
  expect(oo?.resourceType, reply.text.slice(0, 300)).toBe('OperationOutcome');
  expect(oo.issue.length).toBeGreaterThan(0);
  return oo;
}

const send = (req: Omit<FuzzRequest, 'bodyKind'> & { chunked?: boolean }) =>
  raw(origin, { ...req, timeoutMs: 30_000 });

/** Sends a request that must be rejected with `status` and change nothing. */
async function expectRejected(req: Omit<FuzzRequest, 'bodyKind'>, status: number): Promise<OperationOutcome> {
  const before = await snapshot();
  const oo = expectOutcome(await send(req), status);
  expect(await snapshot(), 'a rejected request changed the stored state').toBe(before);
  return oo;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

async function seed(): Promise<FuzzContext> {
  const known: string[] = [];
  const etags: string[] = [];
  const put = async (path: string, body: unknown) => {
    const r = await client.put(path, body);
    expect(r.status).toBeLessThan(300);
    known.push(path);
    etags.push(r.headers.get('etag')!);
  };
  await put('Patient/fz-p1', { resourceType: 'Patient', id: 'fz-p1', identifier: [{ system: 'http://x', value: '1' }], name: [{ family: 'fz' }] });
  await put('Patient/fz-p2', { resourceType: 'Patient', id: 'fz-p2', name: [{ family: 'Two' }] });
  await put('Observation/fz-o1', { resourceType: 'Observation', id: 'fz-o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/fz-p1' } });
  await put('Binary/fz-b1', { resourceType: 'Binary', id: 'fz-b1', contentType: 'text/plain', data: 'aGVsbG8=' });
  await put('Patient/fz-gone', { resourceType: 'Patient', id: 'fz-gone' });
  expect((await client.delete('Patient/fz-gone')).status).toBe(200);
  return { known, etags, baseUrl: ws.baseUrl };
}

describe('property: random requests', () => {
  it(`~${RUNS} random requests: no 5xx, errors are OperationOutcomes, rejected requests change nothing, server stays up`, async () => {
    const ctx = await seed();
    const stats = { runs: 0, byStatus: new Map<number, number>(), rejectedChecked: 0, dropped: [] as string[] };
    const seedEnv = process.env.FLINT_FUZZ_SEED;
    await fc.assert(
      fc.asyncProperty(fuzzRequestArb(ctx), async (req) => {
        stats.runs++;
        const before = await snapshot();
        const problems: string[] = [];
        let reply: RawReply | undefined;
        try {
          reply = await send(req);
        } catch (e) {
          if (!(e instanceof NoResponseError)) throw e;
          const excuse = droppedByTransport(req, e);
          if (excuse) stats.dropped.push(excuse);
          else problems.push(`no HTTP response (${e.message})`);
        }
        const status = reply?.status ?? 0;
        stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
        if (reply) problems.push(...replyProblems(req, reply));
        if (!reply || (status >= 400 && status < 500)) {
          stats.rejectedChecked++;
          const after = await snapshot();
          if (after !== before) problems.push(`rejected with ${status || 'no response'} but the state changed: ${before} -> ${after}`);
        }
        if (ws.proc.exitCode !== null || ws.proc.signalCode !== null) problems.push('the server process exited');
        else {
          const meta = await raw(origin, { method: 'GET', path: '/fhir/metadata', timeoutMs: 10_000 }).catch(() => undefined);
          if (meta?.status !== 200) problems.push(`metadata answered ${meta?.status ?? 'nothing'} afterwards`);
        }
        if (problems.length > 0) {
          throw new Error(`${problems.join('; ')}\n  request: ${describeRequest(req)}\n  reply: ${status} ${reply?.text.slice(0, 300) ?? ''}`);
        }
      }),
      {
        numRuns: RUNS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
        ...(seedEnv ? { seed: Number(seedEnv) } : {}),
      },
    );
    const summary = [...stats.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`).join(' ');
    console.log(`fuzz: ${stats.runs} requests (${stats.rejectedChecked} rejected, state checked); statuses ${summary}`);
    if (stats.dropped.length > 0) console.log(`fuzz: no response, by design of the transport:\n  ${stats.dropped.join('\n  ')}`);
    // The run really exercised the server: enough requests, and both outcomes.
    expect(stats.runs).toBeGreaterThanOrEqual(Math.min(RUNS, 200));
    expect([...stats.byStatus.keys()].some((s) => s < 300)).toBe(true);
    expect(stats.rejectedChecked).toBeGreaterThan(stats.runs / 10);
    await alive();
  });
});

describe('hostile inputs found by fuzzing (fixed cases)', () => {
  // Each must get a non-5xx answer (an OperationOutcome when rejected), change nothing
  // when rejected, and leave the server up.
  const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const cases: Array<[string, Omit<FuzzRequest, 'bodyKind'>]> = [
    ['deeply nested JSON in a created resource', { method: 'POST', path: '/fhir/Patient', headers: FHIR_JSON, body: Buffer.from(`{"resourceType":"Patient","extension":${deep(20_000)}}`) }],
    ['deeply nested JSON in an updated resource', { method: 'PUT', path: '/fhir/Patient/deep', headers: FHIR_JSON, body: Buffer.from(`{"resourceType":"Patient","id":"deep","contact":${deep(20_000)}}`) }],
    ['deeply nested JSON in a $validate body', { method: 'POST', path: '/fhir/Patient/$validate', headers: FHIR_JSON, body: Buffer.from(`{"resourceType":"Patient","contact":${deep(20_000)}}`) }],
    ['deeply nested JSON in a transaction entry', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: Buffer.from(`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","contact":${deep(20_000)}}}]}`) }],
    ['a null entry in a transaction', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'transaction', entry: [null] }) }],
    ['a number as a transaction entry', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'transaction', entry: [1] }) }],
    ['a null entry in a batch', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'batch', entry: [null] }) }],
    ['a badly percent-encoded url in a transaction entry', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient/%ZZ' } }] }) }],
    ['a badly percent-encoded url in a batch entry', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/%E0%A4%A' } }] }) }],
    ['a non-string request.url in a transaction entry', { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: json({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 42 } }] }) }],
    ['a badly percent-encoded path', { method: 'GET', path: '/fhir/Patient/%ZZ', headers: {} }],
    ['a BOM and nothing else', { method: 'POST', path: '/fhir/Patient', headers: FHIR_JSON, body: Buffer.from('\ufeff') }],
    ['prototype keys in a body', { method: 'POST', path: '/fhir/Patient', headers: FHIR_JSON, body: Buffer.from('{"resourceType":"Patient","__proto__":{"resourceType":"Observation"}}') }],
  ];
  for (const [name, req] of cases) {
    it(name, async () => {
      const before = await snapshot();
      const reply = await send(req);
      expect(replyProblems({ ...req, bodyKind: name }, reply), reply.text.slice(0, 300)).toEqual([]);
      if (reply.status >= 400) expect(await snapshot(), 'a rejected request changed the stored state').toBe(before);
      await alive();
    });
  }

  it('CONNECT does not bring the server down', async () => {
    const reply = await send({ method: 'CONNECT', path: '127.0.0.1:1', headers: {} }).catch((e: Error) => e);
    if (!(reply instanceof Error)) expect(reply.status).toBeLessThan(500);
    await alive();
  });
});

describe('error statuses', () => {
  it('malformed JSON: 400', async () => {
    await expectRejected({ method: 'POST', path: '/fhir/Patient', headers: FHIR_JSON, body: Buffer.from('{"resourceType":"Patient",') }, 400);
  });

  it('a BOM-prefixed body is accepted', async () => {
    const before = await snapshot();
    const reply = await send({ method: 'PUT', path: '/fhir/Patient/bom-1', headers: FHIR_JSON, body: Buffer.from('\ufeff{"resourceType":"Patient","id":"bom-1","name":[{"family":"Bom"}]}') });
    expect(reply.status, reply.text).toBe(201);
    expect(await snapshot()).not.toBe(before);
    expect((await client.get<Patient>('Patient/bom-1')).body.name?.[0]?.family).toBe('Bom');
  });

  it('unknown resource type: 404 (read, search and create)', async () => {
    await expectRejected({ method: 'GET', path: '/fhir/Foo/1', headers: {} }, 404);
    await expectRejected({ method: 'GET', path: '/fhir/Foo', headers: {} }, 404);
    await expectRejected({ method: 'POST', path: '/fhir/Foo', headers: FHIR_JSON, body: json({ resourceType: 'Foo' }) }, 404);
  });

  it('id in the body differs from the URL: 400', async () => {
    await expectRejected({ method: 'PUT', path: '/fhir/Patient/url-id', headers: FHIR_JSON, body: json({ resourceType: 'Patient', id: 'body-id' }) }, 400);
    expect((await client.get('Patient/url-id')).status).toBe(404);
    expect((await client.get('Patient/body-id')).status).toBe(404);
  });

  it('invalid id: 400', async () => {
    const id = 'a'.repeat(65);
    await expectRejected({ method: 'PUT', path: `/fhir/Patient/${id}`, headers: FHIR_JSON, body: json({ resourceType: 'Patient', id }) }, 400);
    await expectRejected({ method: 'PUT', path: '/fhir/Patient/a_b', headers: FHIR_JSON, body: json({ resourceType: 'Patient', id: 'a_b' }) }, 400);
    await expectRejected({ method: 'GET', path: '/fhir/Patient/a%20b', headers: {} }, 400);
  });

  it('unsupported media type: 415', async () => {
    await expectRejected({ method: 'POST', path: '/fhir/Patient', headers: { 'content-type': 'application/fhir+xml' }, body: Buffer.from('<Patient xmlns="http://hl7.org/fhir"/>') }, 415);
    await expectRejected({ method: 'POST', path: '/fhir/Patient', headers: { 'content-type': 'text/plain' }, body: json({ resourceType: 'Patient' }) }, 415);
  });

  it('version conflict: 412 on a stale If-Match (and the resource keeps its version)', async () => {
    const first = await client.put<Patient>('Patient/vc-1', { resourceType: 'Patient', id: 'vc-1' });
    const v1 = first.headers.get('etag')!;
    expect((await client.put('Patient/vc-1', { resourceType: 'Patient', id: 'vc-1', active: true }, { 'if-match': v1 })).status).toBe(200);
    const oo = await expectRejected({ method: 'PUT', path: '/fhir/Patient/vc-1', headers: { ...FHIR_JSON, 'if-match': v1 }, body: json({ resourceType: 'Patient', id: 'vc-1', active: false }) }, 412);
    expect(oo.issue[0]?.code).toBe('conflict');
    expect((await client.get<Patient>('Patient/vc-1')).body.active).toBe(true);
  });

  it('deleted resource: 410 on read', async () => {
    await client.put('Patient/del-1', { resourceType: 'Patient', id: 'del-1' });
    expect((await client.delete('Patient/del-1')).status).toBe(200);
    expectOutcome(await send({ method: 'GET', path: '/fhir/Patient/del-1', headers: {} }), 410);
  });
});

describe('--max-body-bytes', () => {
  let small: RunningWorkstation;
  let smallOrigin: string;
  const LIMIT = 10_000;

  beforeAll(async () => {
    small = await startWorkstation({ args: ['--max-body-bytes', String(LIMIT)] });
    smallOrigin = originOf(small.baseUrl);
    tokens.set(smallOrigin, small.token);
  });
  afterAll(async () => {
    await small?.stop();
    await forgetDataDir(small?.dataDir);
  });

  const patientOfSize = (id: string, size: number): Buffer => {
    const shell = JSON.stringify({ resourceType: 'Patient', id, name: [{ family: '' }] });
    return Buffer.from(JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'x'.repeat(size - shell.length) }] }));
  };
  const historyTotal = async () => {
    const r = await raw(smallOrigin, { method: 'GET', path: '/fhir/_history?_count=1' });
    return (jsonOf(r) as Bundle).total;
  };

  it('a body over the limit: 413 OperationOutcome, nothing stored (Content-Length and chunked)', async () => {
    const body = patientOfSize('big-1', LIMIT * 2);
    expect(body.length).toBeGreaterThan(LIMIT);
    const before = await historyTotal();
    for (const chunked of [false, true]) {
      const reply = await raw(smallOrigin, { method: 'PUT', path: '/fhir/Patient/big-1', headers: FHIR_JSON, body, chunked });
      expectOutcome(reply, 413);
    }
    const tx = json({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: JSON.parse(body.toString()), request: { method: 'PUT', url: 'Patient/big-1' } }] });
    expectOutcome(await raw(smallOrigin, { method: 'POST', path: '/fhir', headers: FHIR_JSON, body: tx }), 413);
    expect(await historyTotal()).toBe(before);
    const read = await raw(smallOrigin, { method: 'GET', path: '/fhir/Patient/big-1' });
    expect(read.status).toBe(404);
    const meta = await raw(smallOrigin, { method: 'GET', path: '/fhir/metadata' });
    expect(meta.status).toBe(200);
  });

  it('a body just under the limit is accepted (the limit is the configured one)', async () => {
    const body = patientOfSize('fits-1', LIMIT - 10);
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    const reply = await raw(smallOrigin, { method: 'PUT', path: '/fhir/Patient/fits-1', headers: FHIR_JSON, body });
    expect(reply.status, reply.text.slice(0, 200)).toBe(201);
    const over = patientOfSize('fits-2', LIMIT + 1);
    expectOutcome(await raw(smallOrigin, { method: 'PUT', path: '/fhir/Patient/fits-2', headers: FHIR_JSON, body: over }), 413);
  });
});
