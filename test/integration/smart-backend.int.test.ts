/**
 * SMART Backend Services against a real workstation: a service registered with
 * `flint app add --jwks FILE --role reader` signs an RS384 client assertion
 * (private_key_jwt) and gets a client_credentials token that reads but, as a reader,
 * cannot write. Refused: an assertion signed by another key, a replayed jti, an expired
 * assertion, one that lives longer than five minutes, and scopes beyond the registration.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { postForm } from '../support/smart-http';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const KID = 'svc-key-1';

let ws: RunningWorkstation;
let keysDir: string;
let clientId: string;
let tokenUrl: string;
let privateKey: CryptoKey;

interface AssertionOptions {
  key?: CryptoKey;
  jti?: string;
  /** Seconds from now. */
  exp?: number;
  iat?: number;
}

function assertion(o: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid: KID, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(now + (o.iat ?? 0))
    .setExpirationTime(now + (o.exp ?? 240))
    .setJti(o.jti ?? randomUUID())
    .sign(o.key ?? privateKey);
}

async function requestToken(clientAssertion: string, scope = 'system/Patient.rs') {
  const r = await postForm(tokenUrl, {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion,
    scope,
  });
  return { status: r.status, body: JSON.parse(r.text) as Record<string, unknown> };
}

beforeAll(async () => {
  ws = await startWorkstation();
  expect((await ws.client().put('Patient/p1', { resourceType: 'Patient', id: 'p1', name: [{ family: 'One' }] })).status).toBe(201);
  const pair = await generateKeyPair('RS384', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS384', use: 'sig' };
  keysDir = mkdtempSync(join(tmpdir(), 'flint-jwks-'));
  const jwksFile = join(keysDir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const r = await runFlint(['app', 'add', '--name', 'Svc', '--jwks', jwksFile, '--role', 'reader', '--scope', 'system/*.rs', '--data-dir', ws.dataDir]);
  expect(r.code, r.stderr).toBe(0);
  const id = /^client_id: (\S+)$/m.exec(r.stdout)?.[1];
  expect(id, r.stdout).toBeDefined();
  clientId = id!;
  const smart = await new FhirClient(ws.baseUrl).get<Record<string, unknown>>('.well-known/smart-configuration');
  expect(smart.status).toBe(200);
  expect(smart.body.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
  tokenUrl = smart.body.token_endpoint as string;
});

afterAll(async () => {
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
  if (keysDir) removeDir(keysDir);
});

describe('backend services (client_credentials with private_key_jwt)', () => {
  let used: string;

  it('a signed assertion gets a short-lived system token that reads, but a reader cannot write', async () => {
    used = await assertion();
    const r = await requestToken(used);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs' });
    expect(r.body.expires_in).toBeGreaterThan(0);
    expect(r.body.expires_in).toBeLessThanOrEqual(300);
    expect(r.body.refresh_token).toBeUndefined();
    const svc = new FhirClient(ws.baseUrl, r.body.access_token as string);
    const read = await svc.get('Patient/p1');
    expect(read.status).toBe(200);
    expect(read.body.id).toBe('p1');
    const created = await svc.post('Patient', { resourceType: 'Patient', name: [{ family: 'New' }] });
    expect(created.status).toBe(403);
    expect(created.body.resourceType).toBe('OperationOutcome');
    // The scope granted is Patient only.
    expect((await svc.get('Observation')).status).toBe(403);
  });

  it('refuses an assertion signed by another key', async () => {
    const other = await generateKeyPair('RS384');
    const r = await requestToken(await assertion({ key: other.privateKey }));
    expect(r).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(r.body.access_token).toBeUndefined();
  });

  it('refuses a replayed assertion (same jti), even re-signed', async () => {
    expect(used).toBeDefined();
    expect(await requestToken(used)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const jti = JSON.parse(Buffer.from(used.split('.')[1]!, 'base64url').toString()).jti as string;
    expect(await requestToken(await assertion({ jti }))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('refuses an expired assertion, and one valid for more than five minutes', async () => {
    const expired = await requestToken(await assertion({ iat: -600, exp: -300 }));
    expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const tooLong = await requestToken(await assertion({ exp: 3600 }));
    expect(tooLong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('grants the registered part of a wider request, and refuses a request with nothing registered in it', async () => {
    const wider = await requestToken(await assertion(), 'system/Patient.cruds');
    expect(wider).toMatchObject({ status: 200, body: { scope: 'system/Patient.rs' } });
    const beyond = await requestToken(await assertion(), 'system/Patient.cud');
    expect(beyond).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(beyond.body.access_token).toBeUndefined();
    const mixed = await requestToken(await assertion(), 'system/Patient.rs system/Observation.c');
    expect(mixed.status).toBe(200);
    expect(mixed.body.scope).toBe('system/Patient.rs');
  });
  it('refuses a scope of a resource type that does not exist, and an assertion that points at keys elsewhere (jku)', async () => {
    expect(await requestToken(await assertion(), 'system/UnknownResource.read')).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const now = Math.floor(Date.now() / 1000);
    const withJku = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS384', kid: KID, typ: 'JWT', jku: 'https://evil.example/jwks.json' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 240)
      .setJti(randomUUID())
      .sign(privateKey);
    expect(await requestToken(withJku)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('gives a client that authenticates correctly every token it asks for: 50 in a row', async () => {
    for (let i = 0; i < 50; i++) {
      const form = { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(), scope: 'system/Patient.rs' };
      // fetch itself: the suite's postForm would wait out a 429 and hide it.
      const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      expect(r.status, `token ${i + 1}`).toBe(200);
      expect(((await r.json()) as { access_token?: string }).access_token).toBeTruthy();
    }
  });

  // Last: it leaves this workstation's failure buckets empty for a few seconds.
  it('holds back failed authentications: 429 with Retry-After and an RFC 6749 error once the burst is spent', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const form = { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion({ exp: 3600 }), scope: 'system/Patient.rs' };
      // fetch itself: the suite's postForm waits out 429s.
      const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(401);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toMatchObject({ error: 'invalid_client' });
  });
});
