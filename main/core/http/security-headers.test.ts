import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRequest } from '../../../test/support/raw-http';
import { SECURITY_HEADERS, withSecurityHeaders } from './security-headers';
import { APP_ORIGIN, PAGE_CSP, TOKEN, startTestServer, type TestServer } from './test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ rateLimits: { auth: { burst: 1, perSecond: 1 } } });
});
afterAll(() => s.close());

const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

function expectSecure(h: IncomingHttpHeaders, csp = DEFAULT_CSP, referrer = 'no-referrer'): void {
  expect(h['cache-control']).toBe('no-store');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['x-frame-options']).toBe('DENY');
  expect(h['referrer-policy']).toBe(referrer);
  expect(h['content-security-policy']).toBe(csp);
  expect(h['cross-origin-resource-policy']).toBe('same-origin');
  expect(h['cross-origin-opener-policy']).toBe('same-origin');
  expect(h['permissions-policy']).toMatch(/(^|, )camera=\(\)/);
  expect(h['permissions-policy']).toMatch(/(^|, )geolocation=\(\)/);
  expect(h['permissions-policy']).not.toMatch(/=\((?!\))/); // nothing allowed anywhere
}

describe('security headers', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const cases: Array<[string, number, () => RawRequest]> = [
    ['a FHIR answer', 200, () => ({ method: 'GET', path: '/fhir/Patient', headers: auth })],
    ['a 404 outside /fhir', 404, () => ({ method: 'GET', path: '/nothing-here', headers: auth })],
    ['a 401', 401, () => ({ method: 'GET', path: '/fhir/Patient' })],
    ['a 421', 421, () => ({ method: 'GET', path: '/fhir/Patient', headers: { host: 'evil.example' } })],
    ['a 403 for a foreign origin', 403, () => ({ method: 'GET', path: '/fhir/Patient', headers: { origin: 'https://evil.example' } })],
    ['a 406', 406, () => ({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, accept: 'application/fhir+xml' } })],
    ['a preflight', 204, () => ({ method: 'OPTIONS', path: '/fhir/Patient', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET' } })],
    ['the public metadata', 200, () => ({ method: 'GET', path: '/fhir/metadata' })],
    ['the SMART configuration', 200, () => ({ method: 'GET', path: '/fhir/.well-known/smart-configuration' })],
  ];
  it.each(cases)('are on %s', async (_label, status, req) => {
    const reply = await s.send(req());
    expect(reply.status).toBe(status);
    expectSecure(reply.headers);
  });

  it('are on auth JSON answers and their 429s', async () => {
    // fail=1: the test server's auth handler plays a wrong credential, which the limit counts.
    const req: RawRequest = { method: 'POST', path: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'fail=1' };
    const ok = await s.send(req);
    expect(ok.status).toBe(401);
    expectSecure(ok.headers, DEFAULT_CSP, 'same-origin');
    const limited = await s.send(req);
    expect(limited.status).toBe(429);
    expectSecure(limited.headers, DEFAULT_CSP, 'same-origin');
  });

  it("let an auth page's own CSP win, once, and keep the rest", async () => {
    const reply = await s.send({ method: 'GET', path: '/auth/authorize?client_id=x' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    // node joins repeated headers with ", ": one value means one header.
    expect(reply.headers['content-security-policy']).toBe(PAGE_CSP);
    // The page asked for no-referrer; its form POST would then carry Origin: null.
    expectSecure(reply.headers, PAGE_CSP, 'same-origin');
  });

  it('are on the 500 of a response that cannot be written', async () => {
    const bad = { 'X-Bad': 'a\nb' };
    const t = await startTestServer({ handle: async () => ({ status: 200, headers: bad }), authHandler: async () => ({ status: 200, headers: bad }) });
    try {
      for (const path of ['/fhir/Patient', '/auth/authorize']) {
        const reply = await t.send({ method: 'GET', path, headers: { authorization: `Bearer ${TOKEN}` } });
        expect(reply.status, path).toBe(500);
        expectSecure(reply.headers);
      }
    } finally {
      await t.close();
    }
  });

  it('do not let a FHIR response replace the CSP', () => {
    const h = withSecurityHeaders({ 'content-security-policy': "default-src *", ETag: 'W/"1"' });
    expect(h['content-security-policy']).toBeUndefined();
    expect(h['Content-Security-Policy']).toBe(SECURITY_HEADERS['Content-Security-Policy']);
    expect(h.ETag).toBe('W/"1"');
  });

  it('let an auth response replace only the CSP', () => {
    const h = withSecurityHeaders({ 'Content-Security-Policy': PAGE_CSP, 'x-frame-options': 'SAMEORIGIN', 'Referrer-Policy': 'unsafe-url' }, true);
    expect(h['Content-Security-Policy']).toBe(PAGE_CSP);
    expect(h['x-frame-options']).toBeUndefined();
    expect(h['X-Frame-Options']).toBe('DENY');
    expect(h['Referrer-Policy']).toBe('same-origin');
    expect(Object.keys(h).filter((k) => k.toLowerCase() === 'referrer-policy')).toHaveLength(1);
  });
});
