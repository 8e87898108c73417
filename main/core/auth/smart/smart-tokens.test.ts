/**
 * The token endpoint's refusals, SMART Backend Services (client_credentials with a
 * signed assertion), introspection, discovery documents and fault handling.
 */
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { CODE_TTL_MS } from '../tokens';
import { capabilitySecurity, smartConfiguration } from './index';
import {
  adminBearer, assertion, backendToken, body, call, CB, codeFor, exchange, FHIR, loginPage, ORIGIN, PASSWORD, pkce, post, TOKEN_URL,
  useSmartWorld, w, withFields,
} from './smart-fixture'; // prettier-ignore

useSmartWorld();

// ---- token: refusals ---------------------------------------------------------------

describe('token refuses', () => {
  it('a wrong verifier, and the code is spent by the attempt', async () => {
    const { code, verifier } = await codeFor();
    const bad = await exchange(code, pkce().verifier);
    expect(bad.status).toBe(400);
    expect(body(bad).error).toBe('invalid_grant');
    expect(body(await exchange(code, verifier)).error).toBe('invalid_grant');
  });

  it('a replayed code, revoking what the first exchange issued', async () => {
    const { code, verifier } = await codeFor();
    const first = body(await exchange(code, verifier));
    expect(first.access_token).toBeDefined();
    const second = await exchange(code, verifier);
    expect(body(second)).toMatchObject({ error: 'invalid_grant' });
    const refresh = await post('token', { grant_type: 'refresh_token', refresh_token: first.refresh_token as string, client_id: 'charts' });
    expect(body(refresh).error).toBe('invalid_grant');
  });

  it('an expired code', async () => {
    const { code, verifier } = await codeFor();
    w.clock += CODE_TTL_MS + 1000;
    expect(body(await exchange(code, verifier)).error).toBe('invalid_grant');
  });

  it('a code for another redirect URI or client, a missing verifier, a non-form body', async () => {
    const a = await codeFor();
    expect(body(await exchange(a.code, a.verifier, { redirect_uri: 'http://127.0.0.1:5000/other' })).error).toBe('invalid_grant');
    const b = await codeFor();
    expect(body(await exchange(b.code, b.verifier, { client_id: 'other' })).error).toBe('invalid_grant');
    const c = await codeFor();
    const noVerifier = await post('token', { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, client_id: 'charts' });
    expect(body(noVerifier).error).toBe('invalid_request');
    expect(body(await exchange(c.code, c.verifier)).access_token).toBeDefined(); // not spent by the refusal
    const asJson = await post('token', { grant_type: 'client_credentials' }, { 'content-type': 'application/json' });
    expect(body(asJson).error).toBe('invalid_request');
    expect(body(await exchange('x', 'y', { client_id: 'nobody' })).error).toBe('invalid_client');
    expect((await exchange('x', 'y', { client_id: 'nobody' })).status).toBe(401);
    expect(body(await post('token', { grant_type: 'password' })).error).toBe('unsupported_grant_type');
    const twice = new URLSearchParams('grant_type=authorization_code&code=a&code=b');
    expect(body(await post('token', twice)).error).toBe('invalid_request');
  });

  it('a code of a confidential client without its signed assertion', async () => {
    const CONF_CB = 'http://127.0.0.1:7000/cb';
    w.accounts.apps.add({ clientId: 'conf', name: 'Conf', redirectUris: [CONF_CB], jwks: { keys: [w.serviceJwk] }, scope: 'openid user/*.rs', role: 'reader' });
    const { code, verifier } = await codeFor({ client_id: 'conf', redirect_uri: CONF_CB, scope: 'openid user/*.rs' });
    const unsigned = await post('token', { grant_type: 'authorization_code', code, redirect_uri: CONF_CB, client_id: 'conf', code_verifier: verifier });
    expect(unsigned.status).toBe(401);
    expect(body(unsigned).error).toBe('invalid_client');
    const signed = await post('token', {
      grant_type: 'authorization_code', code, redirect_uri: CONF_CB, code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion({ iss: 'conf' }),
    }); // prettier-ignore
    expect(signed.status).toBe(200);
    expect(body(signed).scope).toBe('openid user/*.rs');
  });

  it('a refresh token presented by another client', async () => {
    const { code, verifier } = await codeFor();
    const t = body(await exchange(code, verifier));
    const r = await post('token', { grant_type: 'refresh_token', refresh_token: t.refresh_token as string, client_id: 'other' });
    expect(r.status).toBe(400);
    expect(body(r).error).toBe('invalid_grant');
    expect(body(await post('token', { grant_type: 'refresh_token', refresh_token: t.refresh_token as string, client_id: 'charts' })).access_token).toBeDefined();
  });
});

// ---- backend services --------------------------------------------------------------

describe('client_credentials (SMART Backend Services)', () => {
  it('issues a system token for a good assertion, narrowed to the registration', async () => {
    const r = await backendToken(await assertion(), 'system/Patient.rs system/Observation.cruds patient/*.rs');
    expect(r.status).toBe(200);
    const t = body(r);
    // Observation.cruds is cut down to its registered part (.rs); patient/ scopes mean nothing here.
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'system/Patient.rs system/Observation.rs' });
    expect(t.refresh_token).toBeUndefined();
    const p = await w.accounts.authenticate(t.access_token as string);
    expect(p?.subject).toBe('client:svc');
    expect(p?.permissions).toEqual(w.accounts.users.roles().find((x) => x.name === 'exporter')!.permissions);
  });

  it('refuses a bad signature, a replayed jti, an expired or too long-lived assertion, a wrong aud or algorithm', async () => {
    const bad = await backendToken(await assertion({ key: w.otherKey }));
    expect(bad.status).toBe(401);
    expect(body(bad).error).toBe('invalid_client');

    const once = await assertion({ jti: 'same-jti' });
    expect((await backendToken(once)).status).toBe(200);
    const replay = await backendToken(await assertion({ jti: 'same-jti' }));
    expect(replay.status).toBe(401);
    expect(body(replay).error_description).toMatch(/already used/);

    const old = await assertion({ expIn: 60 });
    w.clock += 61_000;
    const expired = await backendToken(old);
    expect(expired.status).toBe(401);
    expect(body(expired).error_description).toMatch(/expired/);

    expect((await backendToken(await assertion({ expIn: 301 }))).status).toBe(401);
    expect((await backendToken(await assertion({ aud: FHIR }))).status).toBe(401);
    expect((await backendToken(await assertion({ iss: 'charts' }))).status).toBe(401);
    const rs256 = (await generateKeyPair('RS256')).privateKey;
    expect((await backendToken(await assertion({ key: rs256, alg: 'RS256' }))).status).toBe(401);
    const noType = await post('token', { grant_type: 'client_credentials', client_id: 'svc', scope: 'system/*.rs' });
    expect(noType.status).toBe(401);
  });

  it('grants what a client may have of what it asks for, and refuses only when nothing is left', async () => {
    // 'svc' is registered for system/*.rs with the exporter role.
    const wide = await backendToken(await assertion(), 'system/*.cruds user/*.rs');
    expect(wide.status).toBe(200);
    expect(body(wide).scope).toBe('system/*.rs');
    const r = await backendToken(await assertion(), 'system/*.cud system/Patient.d user/*.rs');
    expect(r.status).toBe(400);
    expect(body(r).error).toBe('invalid_scope');
  });

  it('never grants a bulk client (an exporter) a write scope, even one it was registered with', async () => {
    w.accounts.apps.add({ clientId: 'svc-w', name: 'Exporter registered too widely', jwks: { keys: [w.serviceJwk] }, scope: 'system/*.cruds', role: 'exporter' });
    const r = await backendToken(await assertion({ iss: 'svc-w' }), 'system/*.cruds');
    expect(r.status).toBe(200);
    expect(body(r).scope).toBe('system/*.rs');
  });
});

// ---- introspection, discovery, w.faults ----------------------------------------------

describe('introspection, discovery and w.faults', () => {
  it('introspection needs an administrator', async () => {
    const user = await w.accounts.tokens.issueAccess({ sub: w.alice.id, client_id: 'charts', scope: 'user/*.rs' });
    const none = await post('introspect', { token: user.token });
    expect(none.status).toBe(401);
    expect(none.headers['WWW-Authenticate']).toMatch(/^Bearer/);
    const reader = await post('introspect', { token: user.token }, { authorization: `Bearer ${user.token}` });
    expect(reader.status).toBe(401);
    expect(body(reader).active).toBeUndefined();
    expect(body(await post('introspect', { token: 'garbage' }, await adminBearer()))).toEqual({ active: false });
  });

  it('publishes the SMART configuration and the CapabilityStatement security element', async () => {
    const c = smartConfiguration(ORIGIN);
    expect(c).toMatchObject({
      issuer: FHIR,
      jwks_uri: `${ORIGIN}/auth/jwks`,
      authorization_endpoint: `${ORIGIN}/auth/authorize`,
      token_endpoint: TOKEN_URL,
      revocation_endpoint: `${ORIGIN}/auth/revoke`,
      introspection_endpoint: `${ORIGIN}/auth/introspect`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(c.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    const capabilities = 'launch-standalone client-public client-confidential-asymmetric context-standalone-patient permission-offline permission-patient permission-user permission-v1 permission-v2 sso-openid-connect authorize-post';
    expect(c.capabilities).toEqual(expect.arrayContaining(capabilities.split(' ')));
    const sec = capabilitySecurity(ORIGIN);
    const ext = sec.extension!.find((e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris')!;
    expect(Object.fromEntries(ext.extension!.map((e) => [e.url, e.valueUri]))).toEqual({
      authorize: `${ORIGIN}/auth/authorize`,
      token: TOKEN_URL,
      revoke: `${ORIGIN}/auth/revoke`,
      introspect: `${ORIGIN}/auth/introspect`,
    });
    expect(sec.service![0]!.coding![0]!.code).toBe('SMART-on-FHIR');
  });

  it('routes: 404 for unknown endpoints, 405 for wrong methods', async () => {
    expect((await call('GET', 'nowhere')).status).toBe(404);
    expect((await call('GET', 'constructor')).status).toBe(404);
    const r = await call('GET', 'token');
    expect(r.status).toBe(405);
    expect(r.headers.Allow).toBe('POST');
    expect((await call('DELETE', 'authorize')).status).toBe(405);
  });

  it('an unexpected fault is a bare 500, and the log gets no message', async () => {
    const page = await loginPage(pkce().challenge);
    w.failPatients = true;
    try {
      const r = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD }));
      expect(r.status).toBe(500);
      expect(r.body).not.toContain('Ann');
      expect(w.faults.length).toBeGreaterThan(0);
      expect(w.faults.join('\n')).not.toContain('Ann Smith');
    } finally {
      w.failPatients = false;
    }
  });
});
