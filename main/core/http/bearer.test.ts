import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, type RawReply } from '../../../test/support/raw-http';
import { parseAuthorization } from './bearer';
import { PRINCIPAL, TOKEN, sendRaw, startTestServer, type TestServer } from './test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

function expectChallenge(reply: RawReply, error: boolean): void {
  expect(reply.status).toBe(401);
  expect(reply.headers['www-authenticate']).toBe(error ? 'Bearer realm="flint", error="invalid_token"' : 'Bearer realm="flint"');
  const oo = jsonOf(reply) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
  expect(oo.resourceType).toBe('OperationOutcome');
  expect(oo.issue[0]!.code).toBe('login');
}

describe('bearer authentication', () => {
  it('refuses a request without a token: 401, challenge without error, handler not called', async () => {
    const before = s.fhirCalls.length;
    expectChallenge(await s.send({ method: 'GET', path: '/fhir/Patient' }), false);
    expectChallenge(await s.send({ method: 'GET', path: '/fhir/Patient', headers: { authorization: 'Basic dTpw' } }), false);
    expect(s.fhirCalls.length).toBe(before);
  });

  it.each(['Bearer wrong-token', 'Bearer ', 'Bearer', 'Bearer a b', 'Bearer ä', `Bearer ${TOKEN}x`])(
    'refuses %j with invalid_token, without echoing it',
    async (authorization) => {
      const before = s.fhirCalls.length;
      const reply = await s.send({ method: 'GET', path: '/fhir/Patient', headers: { authorization } });
      expectChallenge(reply, true);
      const token = authorization.slice('Bearer '.length);
      if (token.length > 1) expect(reply.text).not.toContain(token);
      expect(s.fhirCalls.length).toBe(before);
    },
  );

  it('refuses before reading a body', async () => {
    const reply = await s.send({ method: 'POST', path: '/fhir/Patient', headers: { 'content-type': 'application/fhir+json' }, body: 'x'.repeat(10_000) });
    expectChallenge(reply, false); // not 413
    const raw = await sendRaw(s.port, `PUT /fhir/Patient/1 HTTP/1.1\r\nHost: ${s.host}`, '\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n{');
    expect(raw.status).toBe(401);
    expect(raw.closed).toBe(true);
  });

  it('hands the principal to the router, and not the token', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer   ${TOKEN}`]) {
      const reply = await s.send({ method: 'GET', path: '/fhir/Patient?name=x', headers: { authorization } });
      expect(reply.status).toBe(200);
      const req = s.fhirCalls.at(-1)!;
      expect(req.principal).toEqual(PRINCIPAL);
      expect(req.headers.authorization).toBeUndefined();
      expect(req.query.get('name')).toBe('x');
    }
  });

  it('leaves metadata and the SMART configuration public', async () => {
    const meta = await s.send({ method: 'GET', path: '/fhir/metadata' });
    expect(meta.status).toBe(200);
    expect(s.fhirCalls.at(-1)!.path).toEqual(['metadata']);
    expect(s.fhirCalls.at(-1)!.principal).toBeUndefined();
    const smart = await s.send({ method: 'GET', path: '/fhir/.well-known/smart-configuration', headers: { accept: 'text/html' } });
    expect(smart.status).toBe(200);
    expect(smart.headers['content-type']).toMatch(/^application\/json/);
    expect((jsonOf(smart) as { token_endpoint: string }).token_endpoint).toBe('http://127.0.0.1/auth/token');
  });

  it('does not make other methods or paths near metadata public', async () => {
    expectChallenge(await s.send({ method: 'POST', path: '/fhir/metadata', headers: { 'content-type': 'application/fhir+json' }, body: '{}' }), false);
    expectChallenge(await s.send({ method: 'GET', path: '/fhir/metadata/x' }), false);
    expectChallenge(await s.send({ method: 'GET', path: '/fhir/Patient/metadata' }), false);
  });

  it('answers 404 for the SMART configuration when there is none', async () => {
    const t = await startTestServer({ smartConfiguration: undefined });
    try {
      const reply = await t.send({ method: 'GET', path: '/fhir/.well-known/smart-configuration' });
      expect(reply.status).toBe(404);
      expect((jsonOf(reply) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    } finally {
      await t.close();
    }
  });

  it('without authenticate, needs no token and passes the headers as before', async () => {
    const t = await startTestServer({ authenticate: undefined });
    try {
      expect((await t.send({ method: 'GET', path: '/fhir/Patient' })).status).toBe(200);
      expect((await t.send({ method: 'GET', path: '/fhir/Patient', headers: { authorization: 'Bearer whatever' } })).status).toBe(200);
      expect(t.fhirCalls.at(-1)!.headers.authorization).toBe('Bearer whatever');
      expect(t.fhirCalls.at(-1)!.principal).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('failed authentication cap', () => {
  it('answers 429 once the failures run out, even to a valid token, then recovers', async () => {
    const t = await startTestServer({ rateLimits: { bearerFailures: { burst: 5, perSecond: 1 } } });
    try {
      const bad = { method: 'GET', path: '/fhir/Patient', headers: { authorization: 'Bearer guess' } };
      const good = { method: 'GET', path: '/fhir/Patient', headers: { authorization: `Bearer ${TOKEN}` } };
      // Valid tokens and requests without any do not count.
      for (let i = 0; i < 10; i++) expect((await t.send(good)).status).toBe(200);
      for (let i = 0; i < 10; i++) expect((await t.send({ method: 'GET', path: '/fhir/Patient' })).status).toBe(401);
      for (let i = 0; i < 5; i++) expect((await t.send(bad)).status).toBe(401);
      const limited = await t.send(bad);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((jsonOf(limited) as { issue: Array<{ code: string }> }).issue[0]!.code).toBe('throttled');
      // Refused unchecked: the answer must not tell a guessed token from a wrong one.
      expect((await t.send(good)).status).toBe(429);
      t.clock.now += 1_000;
      expect((await t.send(good)).status).toBe(200);
      expect((await t.send(bad)).status).toBe(401);
      expect((await t.send(bad)).status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('counts concurrent guesses strictly', async () => {
    const t = await startTestServer({ rateLimits: { bearerFailures: { burst: 5, perSecond: 1 } } });
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => t.send({ method: 'GET', path: '/fhir/Patient', headers: { authorization: `Bearer guess${i}` } })),
      );
      expect(replies.filter((r) => r.status === 401)).toHaveLength(5);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(15);
    } finally {
      await t.close();
    }
  });
});

describe('parseAuthorization', () => {
  it('reads RFC 6750 bearer tokens', () => {
    expect(parseAuthorization(undefined)).toEqual({ kind: 'none' });
    expect(parseAuthorization('Basic abc')).toEqual({ kind: 'none' });
    expect(parseAuthorization('Bearerabc')).toEqual({ kind: 'none' });
    expect(parseAuthorization('Bearer a.b-c_d~e+f/g==')).toEqual({ kind: 'token', token: 'a.b-c_d~e+f/g==' });
    expect(parseAuthorization('BEARER x')).toEqual({ kind: 'token', token: 'x' });
    expect(parseAuthorization('Bearer a=b')).toEqual({ kind: 'malformed' });
    expect(parseAuthorization('Bearer')).toEqual({ kind: 'malformed' });
  });
});
