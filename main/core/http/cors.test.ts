import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../../../test/support/raw-http';
import { APP_ORIGIN, TOKEN, startTestServer, type TestServer } from './test-server';

let s: TestServer;
const auth = { authorization: `Bearer ${TOKEN}` };
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('CORS', () => {
  it.each(['https://evil.example', 'null', 'http://127.0.0.1:1', `${APP_ORIGIN}.evil.example`])(
    'refuses Origin %s with 403 and no CORS headers, before the handler',
    async (origin) => {
      const before = s.fhirCalls.length;
      const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, origin } });
      expect(reply.status).toBe(403);
      expect((jsonOf(reply) as { resourceType: string }).resourceType).toBe('OperationOutcome');
      expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(s.fhirCalls.length).toBe(before);
    },
  );

  it('refuses a disallowed Origin on the auth routes', async () => {
    const before = s.authCalls.length;
    const reply = await s.send({ method: 'POST', path: '/auth/token', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x' });
    expect(reply.status).toBe(403);
    expect(s.authCalls.length).toBe(before);
  });

  it('serves a registered app origin with ACAO, Vary and exposed headers, no credentials', async () => {
    const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, origin: APP_ORIGIN } });
    expect(reply.status).toBe(200);
    expect(reply.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(reply.headers.vary).toBe('Origin');
    expect(reply.headers['access-control-expose-headers']).toBe('ETag, Location, Last-Modified, Content-Location');
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('puts the CORS headers on errors too, so the app can read them', async () => {
    const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { origin: APP_ORIGIN } });
    expect(reply.status).toBe(401);
    expect(reply.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('treats our own origin as same-origin: served, no CORS headers', async () => {
    for (const origin of [`http://127.0.0.1:${s.port}`, `http://LOCALHOST:${s.port}`]) {
      const host = origin.slice('http://'.length).toLowerCase();
      const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, origin, host } });
      expect(reply.status, origin).toBe(200);
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    }
    // Our origin under another name than the Host used is someone else's page.
    const cross = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, origin: `http://localhost:${s.port}` } });
    expect(cross.status).toBe(403);
  });

  it('answers a preflight from an app with 204, methods, headers and max-age, without a token', async () => {
    const before = s.fhirCalls.length;
    const reply = await s.send({
      method: 'OPTIONS',
      path: '/fhir/Patient/1',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type, if-match' },
    });
    expect(reply.status).toBe(204);
    expect(reply.body.length).toBe(0);
    expect(reply.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(reply.headers['access-control-allow-methods']).toBe('GET, POST, PUT, PATCH, DELETE');
    const allowed = reply.headers['access-control-allow-headers']!.split(', ');
    for (const h of ['Authorization', 'Content-Type', 'Prefer', 'If-Match', 'If-None-Match', 'If-None-Exist', 'If-Modified-Since', 'Accept']) expect(allowed).toContain(h);
    expect(Number(reply.headers['access-control-max-age'])).toBeGreaterThan(0);
    expect(reply.headers.vary).toBe('Origin');
    expect(reply.headers['access-control-allow-private-network']).toBeUndefined();
    expect(s.fhirCalls.length).toBe(before);
  });

  it('allows private network access on a preflight that asks for it', async () => {
    const reply = await s.send({
      method: 'OPTIONS',
      path: '/fhir/metadata',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-private-network': 'true' },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-private-network']).toBe('true');
  });

  it('refuses a preflight from an unregistered origin', async () => {
    const reply = await s.send({ method: 'OPTIONS', path: '/fhir/Patient', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(reply.status).toBe(403);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('reads the allow-list per request (a newly registered app is served at once)', async () => {
    const origins = new Set<string>();
    const t = await startTestServer({ allowedOrigins: () => origins });
    try {
      const headers = { ...auth, origin: 'http://127.0.0.1:5173' };
      expect((await t.send({ method: 'GET', path: '/fhir/Patient', headers })).status).toBe(403);
      origins.add('http://127.0.0.1:5173');
      expect((await t.send({ method: 'GET', path: '/fhir/Patient', headers })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('allows no origin at all when no allow-list is given', async () => {
    const t = await startTestServer({ allowedOrigins: undefined });
    try {
      expect((await t.send({ method: 'GET', path: '/fhir/Patient', headers: { ...auth, origin: APP_ORIGIN } })).status).toBe(403);
      expect((await t.send({ method: 'GET', path: '/fhir/Patient', headers: auth })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
