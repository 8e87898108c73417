/**
 * The SMART authorization server driven as a browser and an app would: the code flow
 * with PKCE end to end, and what /auth/authorize refuses. Token endpoint refusals,
 * backend services and introspection: smart-tokens.test.ts.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { MAX_FAILURES } from '../users';
import { LOGIN_FAILED } from './pages';
import { PAGE_CSP, pageCsp } from './responses';
import {
  adminBearer, authorizeParams, body, call, CB, consentPage, exchange, FHIR, hiddenFields, location, loginPage, ORIGIN, PASSWORD, pkce, post,
  useSmartWorld, w, withFields,
} from './smart-fixture'; // prettier-ignore
import type { AuthResponse } from './types';

useSmartWorld();

// ---- the happy path ----------------------------------------------------------------

describe('authorization code flow with PKCE', () => {
  it('logs in, consents with a patient, exchanges, refreshes, introspects and revokes', async () => {
    const { verifier, challenge } = pkce();
    const page = await loginPage(challenge);
    // The form ends in a redirect to the app, which Chrome checks against form-action too.
    const csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:5000; frame-ancestors 'none'";
    expect(page.headers['Content-Security-Policy']).toBe(csp);
    expect(page.headers['X-Frame-Options']).toBe('DENY');
    expect(page.body).not.toMatch(/<script/i);
    expect(page.body).toContain('Charts &lt;b&gt;');
    expect(page.body).toContain(`action="${ORIGIN}/auth/authorize"`);
    const hidden = hiddenFields(page);
    expect(hidden.get('client_id')).toBe('charts');
    expect(hidden.get('code_challenge')).toBe(challenge);
    expect(hidden.get('csrf')).toMatch(/^[\w-]+\.\d+\.[\w-]+$/);

    const consent = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD }));
    expect(consent.status).toBe(200);
    expect(consent.headers['Content-Security-Policy']).toBe(csp);
    expect(pageCsp('com.example.app:/cb')).toBe(PAGE_CSP.replace("'self'", "'self' com.example.app:"));
    for (const s of ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs']) expect(consent.body).toContain(`<code>${s}</code>`);
    expect(consent.body).toContain('Ann Smith, born 1980-02-03');
    expect(consent.body).toContain('&lt;script&gt;x()&lt;/script&gt; &quot;Bo&quot;');
    expect(consent.body).not.toMatch(/<script/i);
    expect(hiddenFields(consent).get('password')).toBeNull();

    const searched = await post('authorize', withFields(consent, { action: 'search', patient_query: 'ann' }));
    expect(w.patientQueries.at(-1)).toBe('ann');
    expect(searched.body).toContain('Ann Smith');
    expect(searched.body).not.toContain('Bo&quot;');
    expect(hiddenFields(searched).get('csrf')).not.toBe(hiddenFields(consent).get('csrf'));

    const done = await post('authorize', withFields(searched, { action: 'allow', patient: 'p1' }));
    expect(done.status).toBe(302);
    const url = location(done);
    expect(url.searchParams.get('state')).toBe('st-1');
    const code = url.searchParams.get('code')!;
    expect(code).toMatch(/^[\w-]{20,}$/);

    const tok = await exchange(code, verifier);
    expect(tok.status).toBe(200);
    expect(tok.headers['Cache-Control']).toBe('no-store');
    const t = body(tok);
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'openid fhirUser launch/patient offline_access patient/*.rs', patient: 'p1' });
    expect(typeof t.refresh_token).toBe('string');
    const principal = await w.accounts.authenticate(t.access_token as string);
    expect(principal).toMatchObject({ subject: w.alice.id, clientId: 'charts', patient: 'p1', fhirUser: 'Practitioner/pr1' });

    const jwks = body(await call('GET', 'jwks')) as unknown as JSONWebKeySet;
    const id = await jwtVerify(t.id_token as string, createLocalJWKSet(jwks), { issuer: FHIR, audience: 'charts', currentDate: new Date(w.clock) });
    expect(id.protectedHeader.alg).toBe('RS256');
    expect(id.payload).toMatchObject({ sub: w.alice.id, fhirUser: 'Practitioner/pr1' });

    const refreshed = await post('token', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token as string,
      client_id: 'charts',
      scope: 'patient/*.rs offline_access user/*.cruds', // the last was never granted
    });
    expect(refreshed.status).toBe(200);
    const r = body(refreshed);
    expect(r).toMatchObject({ scope: 'patient/*.rs offline_access', patient: 'p1' });
    expect(r.id_token).toBeUndefined();
    expect(r.refresh_token).not.toBe(t.refresh_token);
    const reused = await post('token', { grant_type: 'refresh_token', refresh_token: t.refresh_token as string, client_id: 'charts' });
    expect(body(reused).error).toBe('invalid_grant');

    const admin = await adminBearer();
    const intro = body(await post('introspect', { token: r.access_token as string }, admin));
    expect(intro).toMatchObject({ active: true, scope: 'patient/*.rs offline_access', client_id: 'charts', sub: w.alice.id, patient: 'p1' });
    expect(intro.exp).toBe((intro.iat as number) + 3600);

    expect((await post('revoke', { token: r.access_token as string, client_id: 'charts' })).status).toBe(200);
    expect(body(await post('introspect', { token: r.access_token as string }, admin))).toEqual({ active: false });
    expect(await w.accounts.authenticate(r.access_token as string)).toBeUndefined();
    expect((await post('revoke', { token: r.refresh_token as string, client_id: 'charts' })).status).toBe(200);
    const afterRevoke = await post('token', { grant_type: 'refresh_token', refresh_token: r.refresh_token as string, client_id: 'charts' });
    expect(body(afterRevoke).error).toBe('invalid_grant');
  });

  it('accepts the request by POST (authorize-post) and without launch/patient needs no patient', async () => {
    const { verifier, challenge } = pkce();
    const page = await post('authorize', authorizeParams(challenge, { scope: 'openid user/Observation.rs user/*.cruds' }));
    expect(page.status).toBe(200);
    const consent = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD }));
    expect(consent.body).not.toContain('name="patient"');
    expect(consent.body).not.toContain('user/*.cruds'); // beyond the registration: cut down to user/*.rs
    const done = await post('authorize', withFields(consent, { action: 'allow' }));
    const tok = body(await exchange(location(done).searchParams.get('code')!, verifier));
    expect(tok.scope).toBe('openid user/Observation.rs user/*.rs');
    expect(tok.patient).toBeUndefined();
    expect(tok.refresh_token).toBeUndefined();
    expect(typeof tok.id_token).toBe('string');
  });

  it('Deny goes back to the app with access_denied', async () => {
    const consent = await consentPage(pkce().challenge);
    const r = await post('authorize', withFields(consent, { action: 'deny' }));
    expect(r.status).toBe(302);
    expect(Object.fromEntries(location(r).searchParams)).toMatchObject({ error: 'access_denied', state: 'st-1' });
    expect(location(r).searchParams.get('code')).toBeNull();
  });
});

// ---- authorize: refusals -----------------------------------------------------------

describe('authorize refuses', () => {
  it('an unknown client or a redirect URI not registered exactly, with a page and no redirect', async () => {
    const { challenge } = pkce();
    const untrusted: Array<Record<string, string | null>> = [
      { client_id: 'nobody' },
      { client_id: null },
      { client_id: 'svc' },
      { redirect_uri: `${CB}/` },
      { redirect_uri: 'http://127.0.0.1:6000/cb' },
      { redirect_uri: null },
    ];
    for (const over of untrusted) {
      const r = await call('GET', 'authorize', { query: authorizeParams(challenge, over) });
      expect(r.status, JSON.stringify(over)).toBe(400);
      expect(r.headers.Location).toBeUndefined();
      expect(r.body).toContain('Sign-in failed');
      expect(r.headers['X-Frame-Options']).toBe('DENY');
      expect(r.headers['Content-Security-Policy']).toBe(PAGE_CSP);
      expect(PAGE_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    }
    w.accounts.apps.add({ clientId: 'gone', name: 'Gone', redirectUris: [CB], scope: 'openid' });
    w.accounts.apps.revoke('gone');
    expect((await call('GET', 'authorize', { query: authorizeParams(challenge, { client_id: 'gone', scope: 'openid' }) })).headers.Location).toBeUndefined();
  });

  it('missing or plain PKCE, a wrong aud, a bad response_type or scope: back to the app with the error', async () => {
    const { challenge } = pkce();
    const cases: Array<[Record<string, string | null>, string]> = [
      [{ code_challenge: null, code_challenge_method: null }, 'invalid_request'],
      [{ code_challenge_method: null }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ aud: 'http://evil.example/fhir' }, 'invalid_request'],
      [{ aud: null }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'user/*.cud system/*.rs' }, 'invalid_scope'],
      [{ scope: null }, 'invalid_scope'],
    ];
    for (const [over, error] of cases) {
      const r = await call('GET', 'authorize', { query: authorizeParams(challenge, over) });
      expect(r.status, JSON.stringify(over)).toBe(302);
      const q = location(r).searchParams;
      expect(q.get('error'), JSON.stringify(over)).toBe(error);
      expect(q.get('state')).toBe('st-1');
      expect(q.get('code')).toBeNull();
    }
    expect((await call('GET', 'authorize', { query: authorizeParams(challenge, { aud: `${FHIR}/` }) })).status).toBe(200);
  });

  it('a wrong password or an unknown user with the same generic message', async () => {
    const page = await loginPage(pkce().challenge);
    const wrong = await post('authorize', withFields(page, { username: 'alice', password: 'not the password' }));
    const unknown = await post('authorize', withFields(wrong, { username: 'mallory', password: 'not the password' }));
    expect(wrong.status).toBe(200);
    expect(wrong.body).toContain(LOGIN_FAILED);
    expect(wrong.body).not.toContain('Allow access?');
    const strip = (r: AuthResponse) => r.body!.replace(/name="csrf" value="[^"]*"/, '');
    expect(strip(unknown)).toBe(strip(wrong));
    // The form shown again works for the right password.
    expect((await post('authorize', withFields(unknown, { username: 'alice', password: PASSWORD }))).body).toContain('Allow access?');
  });

  it('a locked account, even with the right password, without saying so', async () => {
    let page = await loginPage(pkce().challenge);
    for (let i = 0; i < MAX_FAILURES; i++) page = await post('authorize', withFields(page, { username: 'bob', password: `wrong guess ${i}` }));
    const r = await post('authorize', withFields(page, { username: 'bob', password: 'bob password 12' }));
    expect(r.body).toContain(LOGIN_FAILED);
    expect(r.body).not.toContain('Allow access?');
    expect(r.body).not.toMatch(/locked until|too many/i);
  });

  it('a login form posted twice, or with altered hidden fields', async () => {
    const page = await loginPage(pkce().challenge);
    const tampered = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD, scope: 'openid user/*.rs' }));
    expect(tampered.status).toBe(400);
    expect(tampered.body).not.toContain('Allow access?');
    const first = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD }));
    expect(first.body).toContain('Allow access?');
    const again = await post('authorize', withFields(page, { username: 'alice', password: PASSWORD }));
    expect(again.status).toBe(400);
    expect(again.body).toContain('expired or was already used');
    const expired = await loginPage(pkce().challenge);
    w.clock += 11 * 60_000;
    expect((await post('authorize', withFields(expired, { username: 'alice', password: PASSWORD }))).status).toBe(400);
  });

  it('a consent post with a wrong or spent CSRF token, and Allow without a real patient', async () => {
    const consent = await consentPage(pkce().challenge);
    const noPatient = await post('authorize', withFields(consent, { action: 'allow' }));
    expect(noPatient.status).toBe(200);
    expect(noPatient.body).toContain('Choose a patient first.');
    const ghost = await post('authorize', withFields(noPatient, { action: 'allow', patient: 'p404' }));
    expect(ghost.body).toContain('Choose a patient first.');
    // The page before last has a spent token: the record ends, and the latest page with it.
    const stale = await post('authorize', withFields(noPatient, { action: 'allow', patient: 'p1' }));
    expect(stale.status).toBe(400);
    expect(stale.headers.Location).toBeUndefined();
    const after = await post('authorize', withFields(ghost, { action: 'allow', patient: 'p1' }));
    expect(after.status).toBe(400);
    expect(after.headers.Location).toBeUndefined();
  });
});
