import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../../../test/support/raw-http';
import { serveAuth, type AuthRequest, type AuthResponse } from './auth-routes';
import { RateLimiter } from './rate-limit';
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
  const token = { method: 'POST', path: '/auth/token', headers: FORM, body: 'grant_type=client_credentials' };
  const wrong = { ...token, body: 'grant_type=client_credentials&fail=1' };

  it('never holds back a client that authenticates correctly, however often it asks', async () => {
    const t = await startTestServer();
    try {
      for (let i = 0; i < 50; i++) expect((await t.send(token)).status, `request ${i + 1}`).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('counts failed authentications: after the burst 429 with Retry-After and an RFC 6749 error, refused unchecked; then recovers', async () => {
    const t = await startTestServer();
    try {
      for (let i = 0; i < 10; i++) expect((await t.send(wrong)).status, `failure ${i + 1}`).toBe(401);
      const before = t.authCalls.length;
      const limited = await t.send(wrong);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.headers['content-type']).toMatch(/^application\/json/);
      expect(jsonOf(limited)).toMatchObject({ error: 'invalid_client' });
      // While the address's bucket is empty, nothing from it is checked (a right guess
      // would otherwise get through), on any limited endpoint; the sign-in page is not limited.
      expect((await t.send(token)).status).toBe(429);
      const authorize = await t.send({ ...token, path: '/auth/authorize' });
      expect(authorize.status).toBe(429);
      expect(jsonOf(authorize)).toMatchObject({ error: 'temporarily_unavailable' });
      expect(t.authCalls.length).toBe(before);
      for (let i = 0; i < 12; i++) expect((await t.send({ method: 'GET', path: '/auth/authorize' })).status).toBe(200);
      t.clock.now += 1_000;
      expect((await t.send(wrong)).status).toBe(401);
      expect((await t.send(wrong)).status).toBe(429);
      t.clock.now += 10_000;
      for (let i = 0; i < 20; i++) expect((await t.send(token)).status).toBe(200); // successes give their token back
    } finally {
      await t.close();
    }
  });

  it('limits POST /auth/authorize, /auth/introspect, /auth/revoke, /auth/lock and /auth/unlock too', async () => {
    for (const path of ['/auth/authorize', '/auth/introspect', '/auth/revoke', '/auth/token/', '/auth/lock', '/auth/unlock']) {
      const t = await startTestServer({ rateLimits: { auth: { burst: 1, perSecond: 1 } } });
      try {
        expect((await t.send({ ...wrong, path })).status, path).toBe(401);
        expect((await t.send({ ...wrong, path })).status, path).toBe(429);
      } finally {
        await t.close();
      }
    }
  });
});

describe('auth rate limits per client', () => {
  const limiter = () => new RateLimiter({ burst: 3, perSecond: 1 }, () => 0);
  const assertionOf = (iss: string) => `e30.${Buffer.from(JSON.stringify({ iss, sub: iss })).toString('base64url')}.sig`;
  const post = (body: string): IncomingMessage =>
    Object.assign(Readable.from([Buffer.from(body)]), { method: 'POST', headers: { 'content-type': FORM['content-type'] } }) as unknown as IncomingMessage;
  const handler = async (req: AuthRequest): Promise<AuthResponse> =>
    req.form?.get('fail') === '1' ? { status: 401, headers: {}, authFailed: true } : { status: 200, headers: {} };
  const send = (l: RateLimiter, address: string, iss: string, fail: boolean) =>
    serveAuth(post(`grant_type=client_credentials&client_assertion=${assertionOf(iss)}${fail ? '&fail=1' : ''}`), new URL('http://127.0.0.1/auth/token'), {
      handler,
      origin: 'http://127.0.0.1',
      maxBodyBytes: 4096,
      limiter: l,
      client: address,
      logFault: () => undefined,
    });

  it('holds back a client whose signed assertions failed, from any address, and not the other clients at its address', async () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) expect((await send(l, 'a1', 'svc', true)).status).toBe(401);
    expect((await send(l, 'a2', 'svc', false)).status).toBe(429); // the client's bucket is empty
    expect((await send(l, 'a2', 'other', false)).status).toBe(200); // another client elsewhere
    // Loopback is every local program's address: a failing one does not lock the others out.
    expect((await send(l, 'a1', 'other', false)).status).toBe(200);
  });

  it('counts a sign-in with a stray client_assertion field per address all the same (the password is what is checked)', async () => {
    const l = limiter();
    const signIn = (iss: string) =>
      serveAuth(
        Object.assign(Readable.from([Buffer.from(`username=u&password=p&fail=1&client_assertion=${assertionOf(iss)}`)]), {
          method: 'POST',
          headers: { 'content-type': FORM['content-type'] },
        }) as unknown as IncomingMessage,
        new URL('http://127.0.0.1/auth/authorize'),
        { handler, origin: 'http://127.0.0.1', maxBodyBytes: 4096, limiter: l, client: 'a1', logFault: () => undefined },
      );
    for (let i = 0; i < 3; i++) expect((await signIn(`junk${i}`)).status).toBe(401);
    expect((await signIn('junk-new')).status).toBe(429); // a new iss each time does not buy new attempts
  });

  it('gives back what it took when another bucket refuses: a refused attempt counts nowhere', async () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) expect((await send(l, 'a1', 'svc', true)).status).toBe(401);
    // Basic credentials count per address and per client; 'svc' is empty, so nothing is taken from a1.
    const basic = (user: string, fail: boolean) =>
      serveAuth(
        Object.assign(Readable.from([Buffer.from(`grant_type=client_credentials${fail ? '&fail=1' : ''}`)]), {
          method: 'POST',
          headers: { 'content-type': FORM['content-type'], authorization: `Basic ${Buffer.from(`${user}:secret`).toString('base64')}` },
        }) as unknown as IncomingMessage,
        new URL('http://127.0.0.1/auth/token'),
        { handler, origin: 'http://127.0.0.1', maxBodyBytes: 4096, limiter: l, client: 'a1', logFault: () => undefined },
      );
    for (let i = 0; i < 5; i++) expect((await basic('svc', true)).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await basic('app2', true)).status, `attempt ${i + 1}`).toBe(401); // a1's three are all still there
    expect((await basic('app3', true)).status).toBe(429);
  });
});
