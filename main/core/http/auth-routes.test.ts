import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../../../test/support/raw-http';
import { startTestServer, type TestServer } from './test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('auth routes', () => {
  it('hands GETs to the auth handler with the path after /auth, the query and our origin', async () => {
    const reply = await s.send({ method: 'GET', path: '/auth/authorize?client_id=a%20b&state=1', headers: { accept: 'application/fhir+xml' } });
    expect(reply.status).toBe(200); // no FHIR negotiation here
    const req = s.authCalls.at(-1)!;
    expect(req.method).toBe('GET');
    expect(req.path).toEqual(['authorize']);
    expect(req.query.get('client_id')).toBe('a b');
    expect(req.origin).toBe(s.origin);
    expect(req.form).toBeUndefined();
    expect(s.fhirCalls.every((c) => c.path[0] !== 'authorize')).toBe(true);
  });

  it('needs no bearer token and decodes form bodies', async () => {
    const reply = await s.send({ method: 'POST', path: '/auth/token', headers: FORM, body: 'grant_type=authorization_code&code=a%2Bb&x=%C3%A9' });
    expect(reply.status).toBe(200);
    const req = s.authCalls.at(-1)!;
    expect(req.path).toEqual(['token']);
    expect(req.form?.get('code')).toBe('a+b');
    expect(req.form?.get('x')).toBe('é');
    expect(req.headers['content-type']).toBe(FORM['content-type']);
  });

  it('refuses other body types with an OAuth error, without calling the handler', async () => {
    const before = s.authCalls.length;
    const reply = await s.send({ method: 'POST', path: '/auth/introspect', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' });
    expect(reply.status).toBe(415);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect((jsonOf(reply) as { error: string }).error).toBe('invalid_request');
    const latin = await s.send({ method: 'POST', path: '/auth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' }, body: 'token=x' });
    expect(latin.status).toBe(415);
    expect(s.authCalls.length).toBe(before);
  });

  it('limits form bodies', async () => {
    const before = s.authCalls.length;
    const reply = await s.send({ method: 'POST', path: '/auth/authorize', headers: FORM, body: `a=${'x'.repeat(5000)}` });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(s.authCalls.length).toBe(before);
  });

  it('does not take /authx or /fhir/auth for auth routes', async () => {
    const before = s.authCalls.length;
    expect((await s.send({ method: 'GET', path: '/authx/token' })).status).toBe(404);
    expect(s.authCalls.length).toBe(before);
  });

  it('answers 404 when there is no auth handler', async () => {
    const t = await startTestServer({ authHandler: undefined });
    try {
      const reply = await t.send({ method: 'POST', path: '/auth/token', headers: FORM, body: 'a=1' });
      expect(reply.status).toBe(404);
      expect((jsonOf(reply) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    } finally {
      await t.close();
    }
  });

  it('turns a handler fault into a 500 that says nothing, and logs no message', async () => {
    const faults: string[] = [];
    const t = await startTestServer({
      authHandler: async () => {
        throw new Error('secret patient name');
      },
      logFault: (f) => faults.push(f),
    });
    try {
      const reply = await t.send({ method: 'GET', path: '/auth/authorize' });
      expect(reply.status).toBe(500);
      expect((jsonOf(reply) as { error: string }).error).toBe('server_error');
      expect(reply.text).not.toContain('secret');
      expect(faults).toHaveLength(1);
      expect(faults[0]).not.toContain('secret');
    } finally {
      await t.close();
    }
  });
});

describe('auth rate limits', () => {
  it('answers 429 with Retry-After per endpoint after the burst, then recovers', async () => {
    const t = await startTestServer();
    try {
      const token = { method: 'POST', path: '/auth/token', headers: FORM, body: 'grant_type=x' };
      for (let i = 0; i < 10; i++) expect((await t.send(token)).status, `request ${i + 1}`).toBe(200);
      const before = t.authCalls.length;
      const limited = await t.send(token);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.headers['content-type']).toMatch(/^application\/json/);
      expect((jsonOf(limited) as { error: string }).error).toBe('temporarily_unavailable');
      expect(t.authCalls.length).toBe(before);
      // Other endpoints have their own buckets; the sign-in page itself is not limited.
      expect((await t.send({ ...token, path: '/auth/revoke' })).status).toBe(200);
      for (let i = 0; i < 12; i++) expect((await t.send({ method: 'GET', path: '/auth/authorize' })).status).toBe(200);
      t.clock.now += 1_000;
      expect((await t.send(token)).status).toBe(200);
      expect((await t.send(token)).status).toBe(429);
      t.clock.now += 10_000;
      for (let i = 0; i < 10; i++) expect((await t.send(token)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('limits POST /auth/authorize, /auth/introspect, /auth/revoke, /auth/lock and /auth/unlock too', async () => {
    const t = await startTestServer({ rateLimits: { auth: { burst: 1, perSecond: 1 } } });
    try {
      for (const path of ['/auth/authorize', '/auth/introspect', '/auth/revoke', '/auth/token/', '/auth/lock', '/auth/unlock']) {
        const req = { method: 'POST', path, headers: FORM, body: 'a=1' };
        expect((await t.send(req)).status, path).toBe(200);
        expect((await t.send(req)).status, path).toBe(429);
      }
    } finally {
      await t.close();
    }
  });
});
