/**
 * Flint's own UI (`flint-ui`) as a client of the authorization server: built in, no
 * consent page, short access tokens in a session that locks and unlocks. Over HTTP with
 * a real workstation: test/integration/ui-session.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MAX_FAILURES } from '../users';
import { UI_SESSION_MS } from '../ui-client';
import { LOGIN_FAILED } from './pages';
import { body, call, FHIR, hiddenFields, location, ORIGIN, PASSWORD, pkce, post, useSmartWorld, w, withFields } from './smart-fixture';

useSmartWorld();

const CALLBACK = `${ORIGIN}/callback`;
const UI_SCOPE = 'openid fhirUser offline_access user/*.cruds';

function uiParams(challenge: string, over: Record<string, string | null> = {}): URLSearchParams {
  const p: Record<string, string | null> = {
    response_type: 'code', client_id: 'flint-ui', redirect_uri: CALLBACK, scope: UI_SCOPE, state: 'ui-1',
    aud: FHIR, code_challenge: challenge, code_challenge_method: 'S256', ...over,
  }; // prettier-ignore
  return new URLSearchParams(Object.entries(p).filter((e): e is [string, string] => e[1] !== null));
}

/** Signs in through the login page: straight back to /callback, no consent page. */
async function signIn(username = 'alice', password = PASSWORD, over: Record<string, string | null> = {}) {
  const { verifier, challenge } = pkce();
  const page = await call('GET', 'authorize', { query: uiParams(challenge, over) });
  expect(page.status).toBe(200);
  expect(page.body).toContain('<title>Sign in</title>');
  const back = await post('authorize', withFields(page, { username, password }));
  expect(back.status).toBe(302);
  const url = location(back);
  expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
  expect(url.searchParams.get('state')).toBe('ui-1');
  const tok = await post('token', { grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: CALLBACK, client_id: 'flint-ui', code_verifier: verifier });
  expect(tok.status).toBe(200);
  return body(tok) as { access_token: string; refresh_token: string; expires_in: number; scope: string; id_token?: string };
}

const refresh = (token: string) => post('token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'flint-ui' });
const lock = (token: string, client = 'flint-ui') => post('lock', { client_id: client, refresh_token: token });
const unlock = (token: string, password: string) => post('unlock', { client_id: 'flint-ui', refresh_token: token, password });

describe('flint-ui sign-in', () => {
  it('needs no registration and no consent; tokens last 5 minutes and carry the session', async () => {
    const t = await signIn();
    expect(t.scope).toBe(UI_SCOPE);
    expect(t.expires_in).toBe(300);
    expect(t.refresh_token).toMatch(/^[\w-]{22}\.[\w-]{43}$/);
    expect(typeof t.id_token).toBe('string');
    const p = await w.accounts.authenticate(t.access_token);
    expect(p).toMatchObject({ subject: w.alice.id, clientId: 'flint-ui', username: 'alice', roles: ['reader'], scope: UI_SCOPE, fhirUser: 'Practitioner/pr1' });
    expect(p?.sessionId).toBe(t.refresh_token.split('.')[0]);
    // Refresh rotates and stays in the session.
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(200);
    const next = body(r) as { refresh_token: string; access_token: string; expires_in: number };
    expect(next.expires_in).toBe(300);
    expect(next.refresh_token.split('.')[0]).toBe(p?.sessionId);
    expect((await refresh(t.refresh_token)).status).toBe(400);
  });

  it('asks for the password without saying which part was wrong', async () => {
    const { challenge } = pkce();
    const page = await call('GET', 'authorize', { query: uiParams(challenge) });
    const again = await post('authorize', withFields(page, { username: 'alice', password: 'wrong password!' }));
    expect(again.status).toBe(200);
    expect(again.body).toContain(LOGIN_FAILED);
    expect(hiddenFields(again).get('client_id')).toBe('flint-ui');
  });

  it('grants at most its own scopes', async () => {
    const t = await signIn('alice', PASSWORD, { scope: 'openid launch/patient patient/*.rs user/*.cruds system/*.rs offline_access' });
    expect(t.scope).toBe('openid user/*.cruds offline_access');
  });

  it('refuses another redirect URI (a page, no redirect) and a request without PKCE', async () => {
    const { challenge } = pkce();
    for (const uri of ['http://127.0.0.1:8788/callback', `${ORIGIN}/callback/`, `${ORIGIN}/other`, 'http://evil.example/callback']) {
      const r = await call('GET', 'authorize', { query: uiParams(challenge, { redirect_uri: uri }) });
      expect(r.status, uri).toBe(400);
      expect(r.headers.Location).toBeUndefined();
    }
    const noPkce = await call('GET', 'authorize', { query: uiParams(challenge, { code_challenge: null, code_challenge_method: null }) });
    expect(noPkce.status).toBe(302);
    expect(location(noPkce).searchParams.get('error')).toBe('invalid_request');
    const plain = await call('GET', 'authorize', { query: uiParams(challenge, { code_challenge_method: 'plain' }) });
    expect(location(plain).searchParams.get('error')).toBe('invalid_request');
  });

  it('cannot be registered, revoked or stood in for by a registry row', () => {
    expect(() => w.accounts.apps.add({ clientId: 'flint-ui', name: 'Fake', redirectUris: ['http://127.0.0.1:9/cb'], scope: 'user/*.cruds' })).toThrow(/Flint's own/);
    expect(() => w.accounts.apps.revoke('flint-ui')).toThrow(/Flint's own/);
    expect(w.accounts.apps.get('flint-ui')).toBeUndefined();
    expect(w.accounts.apps.list().some((a) => a.clientId === 'flint-ui')).toBe(false);
  });

  it('a client assertion does not make it confidential', async () => {
    const r = await post('token', { grant_type: 'client_credentials', client_id: 'flint-ui', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c', scope: 'system/*.rs' });
    expect(r.status).toBe(401);
  });
});

describe('flint-ui lock and unlock', () => {
  it('locks: refresh refused, access tokens 401 until the right password unlocks', async () => {
    const t = await signIn();
    expect(await w.accounts.authenticate(t.access_token)).toBeDefined();
    const locked = await lock(t.refresh_token);
    expect(locked.status).toBe(200);
    expect(body(locked)).toEqual({});
    expect(await w.accounts.authenticate(t.access_token)).toBeUndefined();
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(400);
    expect(body(r).error).toBe('invalid_grant');
    // Locking twice is fine; other clients may not.
    expect((await lock(t.refresh_token)).status).toBe(200);
    expect(body(await lock(t.refresh_token, 'charts')).error).toBe('unauthorized_client');

    const wrong = await unlock(t.refresh_token, 'not her password');
    expect(wrong.status).toBe(400);
    expect(body(wrong)).toEqual({ error: 'invalid_grant', error_description: LOGIN_FAILED });
    expect(await w.accounts.authenticate(t.access_token)).toBeUndefined();
    // Bob's password does not unlock Alice's session.
    expect((await unlock(t.refresh_token, 'bob password 12')).status).toBe(400);

    const ok = await unlock(t.refresh_token, PASSWORD);
    expect(ok.status).toBe(200);
    const u = body(ok) as { access_token: string; refresh_token: string; expires_in: number };
    expect(u.expires_in).toBe(300);
    expect(u.refresh_token).not.toBe(t.refresh_token);
    expect(await w.accounts.authenticate(u.access_token)).toMatchObject({ username: 'alice' });
    expect(await w.accounts.authenticate(t.access_token)).toBeDefined(); // the session's, unlocked again
    expect((await refresh(t.refresh_token)).status).toBe(400); // rotated by the unlock
    expect((await refresh(u.refresh_token)).status).toBe(200);
  });

  it('refuses bad requests without changing anything', async () => {
    const t = await signIn();
    expect((await call('GET', 'lock')).status).toBe(405);
    expect((await post('lock', { client_id: 'flint-ui' })).status).toBe(400);
    expect(body(await post('lock', { client_id: 'flint-ui', refresh_token: 'nope' })).error).toBe('invalid_grant');
    expect(body(await post('unlock', { client_id: 'flint-ui', refresh_token: t.refresh_token })).error).toBe('invalid_request');
    expect(body(await post('unlock', { client_id: 'charts', refresh_token: t.refresh_token, password: PASSWORD })).error).toBe('unauthorized_client');
    const json = await call('POST', 'lock', { headers: { 'content-type': 'application/json' }, form: new URLSearchParams({ client_id: 'flint-ui', refresh_token: t.refresh_token }) });
    expect(json.status).toBe(400);
    expect(await w.accounts.authenticate(t.access_token)).toBeDefined();
    expect((await refresh(t.refresh_token)).status).toBe(200);
  });

  it('wrong passwords at unlock count towards the lockout; a locked-out or disabled account cannot unlock', async () => {
    await w.accounts.users.add({ username: 'lou', password: 'lou password 12', roles: ['writer'] });
    const t = await signIn('lou', 'lou password 12');
    await lock(t.refresh_token);
    for (let i = 0; i < MAX_FAILURES; i++) expect((await unlock(t.refresh_token, `wrong ${i} password`)).status).toBe(400);
    expect(w.accounts.users.byName('lou')!.lockedUntil).toBeGreaterThan(w.clock);
    expect(body(await unlock(t.refresh_token, 'lou password 12'))).toEqual({ error: 'invalid_grant', error_description: LOGIN_FAILED });
    await w.accounts.users.setPassword('lou', 'lou password 34'); // an admin lifts the lockout
    w.accounts.users.setDisabled('lou', true);
    expect((await unlock(t.refresh_token, 'lou password 34')).status).toBe(400);
    w.accounts.users.setDisabled('lou', false);
    expect((await unlock(t.refresh_token, 'lou password 34')).status).toBe(200);
  });

  it('signing out (revoking the refresh token) ends the session and its access tokens', async () => {
    const t = await signIn();
    expect((await post('revoke', { token: t.refresh_token, client_id: 'flint-ui' })).status).toBe(200);
    expect(await w.accounts.authenticate(t.access_token)).toBeUndefined();
    expect(body(await lock(t.refresh_token)).error).toBe('invalid_grant');
  });

  it('a session ends 12 hours after the sign-in, however often it refreshes', async () => {
    let t = await signIn();
    for (let i = 0; i < 3; i++) {
      w.clock += UI_SESSION_MS / 4;
      const r = await refresh(t.refresh_token);
      expect(r.status).toBe(200);
      t = body(r) as typeof t;
    }
    w.clock += UI_SESSION_MS / 4;
    expect((await refresh(t.refresh_token)).status).toBe(400);
    expect((await unlock(t.refresh_token, PASSWORD)).status).toBe(400);
    expect(await w.accounts.authenticate(t.access_token)).toBeUndefined();
  });
});
