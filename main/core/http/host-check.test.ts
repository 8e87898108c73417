import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../../../test/support/raw-http';
import { sendRaw, startTestServer, type TestServer } from './test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ authenticate: undefined });
});
afterAll(() => s.close());

const outcomeCode = (text: string) => (JSON.parse(text) as { resourceType: string; issue: Array<{ code: string }> }).issue[0]?.code;

describe('Host header check (DNS rebinding)', () => {
  it.each(['127.0.0.1', 'localhost', 'LOCALHOST', '[::1]'])('serves Host %s:<port>', async (name) => {
    const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { host: `${name}:${s.port}` } });
    expect(reply.status).toBe(200);
  });

  it.each([
    ['a rebinding name', (port: number) => `evil.example:${port}`],
    ['another port', (port: number) => `127.0.0.1:${port + 1}`],
    ['no port', () => '127.0.0.1'],
    ['a loopback name as a suffix', (port: number) => `localhost.evil.example:${port}`],
  ])('refuses %s with 421 before calling the handler', async (_label, host) => {
    const before = s.fhirCalls.length;
    const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { host: host(s.port) } });
    expect(reply.status).toBe(421);
    expect(reply.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect((jsonOf(reply) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect(s.fhirCalls.length).toBe(before);
  });

  it('refuses a foreign Host on the auth routes too', async () => {
    const before = s.authCalls.length;
    const reply = await s.send({ method: 'GET', path: '/auth/authorize', headers: { host: `evil.example:${s.port}` } });
    expect(reply.status).toBe(421);
    expect(s.authCalls.length).toBe(before);
  });

  it('refuses a request without Host with 421 (not node’s bare 400)', async () => {
    const reply = await sendRaw(s.port, 'GET /fhir/metadata HTTP/1.1');
    expect(reply.status).toBe(421);
    expect(reply.text).toContain('OperationOutcome');
    const http10 = await sendRaw(s.port, 'GET /fhir/metadata HTTP/1.0');
    expect(http10.status).toBe(421);
  });

  it('refuses two Host headers, even if one is ours', async () => {
    const reply = await sendRaw(s.port, `GET /fhir/Patient HTTP/1.1\r\nHost: ${s.host}\r\nHost: evil.example:${s.port}`);
    expect(reply.status).toBe(421);
  });

  it('refuses an absolute-form target naming another host', async () => {
    const before = s.fhirCalls.length;
    const reply = await sendRaw(s.port, `GET http://evil.example:${s.port}/fhir/Patient HTTP/1.1\r\nHost: ${s.host}`);
    expect(reply.status).toBe(421);
    expect(s.fhirCalls.length).toBe(before);
    const ours = await sendRaw(s.port, `GET http://${s.host}/fhir/Patient HTTP/1.1\r\nHost: ${s.host}`);
    expect(ours.status).toBe(200);
  });

  it('answers before reading the body (421, not 413) and closes the connection', async () => {
    const before = s.fhirCalls.length;
    const body = JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(10_000) });
    const reply = await s.send({ method: 'POST', path: '/fhir/Patient', headers: { host: `evil.example:${s.port}`, 'content-type': 'application/fhir+json' }, body });
    expect(reply.status).toBe(421);
    expect(outcomeCode(reply.text)).toBe('processing');
    expect(s.fhirCalls.length).toBe(before);
    // On a keep-alive connection, with the body still coming: the server hangs up
    // rather than read it (as the next request, or at all).
    const raw = await sendRaw(s.port, `POST /fhir/Patient HTTP/1.1\r\nHost: evil.example:${s.port}`, '\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n{"resourceType"');
    expect(raw.status).toBe(421);
    expect(raw.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(raw.closed).toBe(true);
  });
});
