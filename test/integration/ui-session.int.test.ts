/**
 * The UI's sign-in against a real `flint serve` (docs/access-control.md, "The UI's
 * sign-in, lock and first run"), over HTTP as the browser and the UI would do it:
 * first-run setup with the URL the process prints; the built-in `flint-ui` client's
 * code flow with PKCE and no consent page; lock and unlock; /flint/session and
 * /flint/settings. /flint errors are OperationOutcomes; a refused request changes nothing.
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { originOf } from '../support/raw-http';
import { isLoginPage, newPkce, pageMessage, postForm, send, SmartFlow } from '../support/smart-http';
import { until } from '../support/until';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

const UI_SCOPE = 'openid fhirUser offline_access user/*.cruds';
const LOGIN_FAILED = 'The username or password is wrong, or the account is locked.';
const SETUP_LINE = /First run: open (http:\/\/127\.0\.0\.1:\d+\/setup#token=([\w-]{43})) within an hour to create the administrator\./;

let ws: RunningWorkstation;
let origin: string;
let flow: SmartFlow;
let setupUrl: string;
let adminName: string;
const ADMIN_PASSWORD = 'admin password 1';

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The setup line (on stderr, written before the listening line on stdout). */
async function setupLine(w: RunningWorkstation): Promise<RegExpExecArray> {
  for (let i = 0; i < 50; i++) {
    const m = SETUP_LINE.exec(w.output());
    if (m) return m;
    await sleep(100);
  }
  throw new Error(`no setup line in:\n${w.output()}`);
}

const flint = async (args: string[], input?: string) => {
  const r = await runFlint([...args, '--data-dir', ws.dataDir], input === undefined ? {} : { input });
  expect(r.code, `flint ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

async function api<T = unknown>(method: string, path: string, o: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const r = await send(`${origin}/flint/${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  return { status: r.status, body: (r.text ? JSON.parse(r.text) : undefined) as T };
}

/** A /flint or /fhir refusal: an OperationOutcome with this status. */
function expectOutcome(r: { status: number; body: unknown }, status: number): string {
  expect(r.status).toBe(status);
  const o = r.body as OperationOutcome;
  expect(o.resourceType).toBe('OperationOutcome');
  return o.issue?.[0]?.diagnostics ?? '';
}

/** The whole front channel and the code exchange: no consent page in between. */
async function signIn(username: string, password: string): Promise<Tokens> {
  const pkce = newPkce();
  const url = flow.authorizeUrl(pkce);
  const state = new URL(url).searchParams.get('state')!;
  const page = await send(url);
  expect(page.status).toBe(200);
  expect(isLoginPage(page.text)).toBe(true);
  const back = await flow.login(page.text, username, password);
  expect(back.status, pageMessage(back.text)).toBe(302);
  const location = new URL(back.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(`${origin}/callback`);
  expect(location.searchParams.get('state')).toBe(state);
  const tok = await flow.exchange(location.searchParams.get('code')!, pkce.verifier);
  expect(tok.status).toBe(200);
  return tok.body as unknown as Tokens;
}

const lock = (refresh: string) => postForm(`${origin}/auth/lock`, { client_id: 'flint-ui', refresh_token: refresh });
const unlock = async (refresh: string, password: string) => {
  const r = await postForm(`${origin}/auth/unlock`, { client_id: 'flint-ui', refresh_token: refresh, password });
  return { status: r.status, body: JSON.parse(r.text) as Record<string, unknown> };
};

beforeAll(async () => {
  ws = await startWorkstation();
  origin = originOf(ws.baseUrl);
  flow = new SmartFlow({ origin, clientId: 'flint-ui', redirectUri: `${origin}/callback`, scope: UI_SCOPE });
  setupUrl = (await setupLine(ws))[1]!;
});
afterAll(async () => {
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

describe('first run', () => {
  it('prints a one-time setup URL on this origin; GET /flint/setup says setup is needed', async () => {
    expect(setupUrl.startsWith(`${origin}/setup#token=`)).toBe(true);
    expect(await api('GET', 'setup')).toEqual({ status: 200, body: { needed: true } });
  });

  it('refuses a wrong token (403) and a bad password (400) without changing anything', async () => {
    const token = new URL(setupUrl).hash.slice('#token='.length);
    expectOutcome(await api('POST', 'setup', { body: { token: `${token.slice(0, -2)}AA`, username: 'ada', password: ADMIN_PASSWORD } }), 403);
    expectOutcome(await api('POST', 'setup', { body: { username: 'ada', password: ADMIN_PASSWORD } }), 403);
    expect(expectOutcome(await api('POST', 'setup', { body: { token, username: 'ada', password: 'short' } }), 400)).toMatch(/at least 10 characters/);
    expect(expectOutcome(await api('POST', 'setup', { body: { token, username: 'no spaces', password: ADMIN_PASSWORD } }), 400)).toMatch(/username/);
    expectOutcome(await api('POST', 'setup', { body: 'a string' }), 400);
    expect(await api('GET', 'setup')).toEqual({ status: 200, body: { needed: true } });
  });

  it('concurrent requests with the right token create exactly one administrator, who signs in without consent', async () => {
    const token = new URL(setupUrl).hash.slice('#token='.length);
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => api<{ username: string }>('POST', 'setup', { body: { token, username: `admin${i}`, password: ADMIN_PASSWORD } })),
    );
    const created = replies.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 201)) expectOutcome(r, 409);
    adminName = created[0]!.body.username;
    expect(await api('GET', 'setup')).toEqual({ status: 200, body: { needed: false } });
    expect(await flint(['user', 'list'])).toMatch(new RegExp(`^${adminName}\\b.*admin`, 'm'));
    // Used: a second use is refused, whether or not the token is right.
    expectOutcome(await api('POST', 'setup', { body: { token, username: 'eve', password: ADMIN_PASSWORD } }), 409);
    expectOutcome(await api('POST', 'setup', { body: { token: 'x', username: 'eve', password: ADMIN_PASSWORD } }), 409);
    const t = await signIn(adminName, ADMIN_PASSWORD);
    expect(t.scope).toBe(UI_SCOPE);
    expect((await new FhirClient(ws.baseUrl, t.access_token).get('Patient')).status).toBe(200);
  });

  it('a restart makes a new token and the old one stops working', async () => {
    const dir = tempDataDir();
    let first: RunningWorkstation | undefined;
    let second: RunningWorkstation | undefined;
    try {
      first = await startWorkstation({ dataDir: dir });
      const old = (await setupLine(first))[2]!;
      await first.stop();
      second = await startWorkstation({ dataDir: dir });
      const m = await setupLine(second);
      expect(m[2]).not.toBe(old);
      const o = originOf(second.baseUrl);
      const post = (token: string) =>
        send(`${o}/flint/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, username: 'root', password: ADMIN_PASSWORD }) });
      expect((await post(old)).status).toBe(403);
      const ok = await post(m[2]!);
      expect(ok.status).toBe(201);
      expect(JSON.parse(ok.text)).toEqual({ username: 'root' });
    } finally {
      await second?.stop();
      removeDir(dir);
    }
  });
});

describe('flint-ui', () => {
  beforeAll(async () => {
    await flint(['user', 'add', 'rita', '--role', 'reader', '--fhir-user', 'Practitioner/rita'], 'rita password 123\n');
    await flint(['user', 'add', 'aude', '--role', 'auditor'], 'aude password 123\n');
    await flint(['user', 'add', 'lou', '--role', 'writer'], 'lou password 1234\n');
    await ws.client().put('Patient/p1', { resourceType: 'Patient', id: 'p1', name: [{ family: 'One' }] });
  });

  it('signs in with PKCE, no consent page; 5-minute access tokens that refresh', async () => {
    const t = await signIn('rita', 'rita password 123');
    expect(t.expires_in).toBe(300);
    const rita = new FhirClient(ws.baseUrl, t.access_token);
    expect((await rita.get('Patient/p1')).status).toBe(200);
    expectOutcome(await rita.put('Patient/p1', { resourceType: 'Patient', id: 'p1' }), 403); // a reader still
    const r = await flow.refresh(t.refresh_token);
    expect(r.status).toBe(200);
    expect((await new FhirClient(ws.baseUrl, r.body.access_token as string).get('Patient/p1')).status).toBe(200);
    expect((await flow.refresh(t.refresh_token)).body.error).toBe('invalid_grant'); // rotated
  });

  it('refuses another redirect URI (a page, no redirect) and a request without PKCE', async () => {
    const pkce = newPkce();
    for (const redirect_uri of [`${origin}/callback/`, `${origin}/other`, 'http://127.0.0.1:1/callback']) {
      const r = await send(flow.authorizeUrl(pkce, { redirect_uri }));
      expect(r.status, redirect_uri).toBe(400);
      expect(r.headers.get('location')).toBeNull();
    }
    const noPkce = new URL(flow.authorizeUrl(pkce));
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const r = await send(noPkce.href);
    expect(r.status).toBe(302);
    expect(new URL(r.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    // Nor can an app take its name.
    const add = await runFlint(['app', 'add', '--name', 'Fake', '--client-id', 'flint-ui', '--redirect-uri', 'http://127.0.0.1:9/cb', '--scope', 'user/*.cruds', '--data-dir', ws.dataDir]);
    expect(add.code).not.toBe(0);
  });

  it('an auditor searches AuditEvent and nothing else; an admin does what the admin can', async () => {
    const aude = new FhirClient(ws.baseUrl, (await signIn('aude', 'aude password 123')).access_token);
    expect((await aude.get<Bundle>('AuditEvent?_count=1')).status).toBe(200);
    expectOutcome(await aude.get('Patient/p1'), 403);
    const ui = new FhirClient(ws.baseUrl, (await signIn(adminName, ADMIN_PASSWORD)).access_token);
    const cli = ws.client();
    for (const c of [ui, cli]) {
      expect((await c.put('Patient/p2', { resourceType: 'Patient', id: 'p2' })).status).toBeLessThan(300);
      expect((await c.get('Patient?_count=1')).status).toBe(200);
      expect((await c.delete('Patient/p2')).status).toBeLessThan(300);
      expect((await c.get('AuditEvent?_count=1')).status).toBe(200); // auditors and admins only
    }
  });

  it('locks: access tokens 401, refresh refused; a wrong password fails and is a failed login; the right one unlocks', async () => {
    const t = await signIn('rita', 'rita password 123');
    const rita = new FhirClient(ws.baseUrl, t.access_token);
    const locked = await lock(t.refresh_token);
    expect(locked.status).toBe(200);
    expect(JSON.parse(locked.text)).toEqual({});
    expectOutcome(await rita.get('Patient/p1'), 401);
    expectOutcome(await api('GET', 'session', { token: t.access_token }), 401);
    expect((await flow.refresh(t.refresh_token)).body).toMatchObject({ error: 'invalid_grant' });

    expect(await unlock(t.refresh_token, 'not rita password')).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: LOGIN_FAILED } });
    expectOutcome(await rita.get('Patient/p1'), 401);
    // Audited as a failed login of rita.
    const aude = new FhirClient(ws.baseUrl, (await signIn('aude', 'aude password 123')).access_token);
    const failures = await aude.get<Bundle>(`AuditEvent?subtype=${encodeURIComponent('urn:flint:audit-subtype|login-failure')}&_count=100`);
    expect(failures.status).toBe(200);
    const ofRita = (failures.body.entry ?? []).filter((e) => JSON.stringify(e.resource).includes('"display":"rita"'));
    expect(ofRita.length).toBeGreaterThanOrEqual(1);

    const ok = await unlock(t.refresh_token, 'rita password 123');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: UI_SCOPE });
    expect((await new FhirClient(ws.baseUrl, ok.body.access_token as string).get('Patient/p1')).status).toBe(200);
    expect((await rita.get('Patient/p1')).status).toBe(200);
    expect((await flow.refresh(ok.body.refresh_token as string)).status).toBe(200);
  });

  it('a session locked twice (the desktop app and the UI both asking) is one logout in the audit trail', async () => {
    const aude = new FhirClient(ws.baseUrl, (await signIn('aude', 'aude password 123')).access_token);
    const ofRita = async (kind: string) => {
      const found = await aude.get<Bundle>(`AuditEvent?subtype=${encodeURIComponent(`urn:flint:audit-subtype|${kind}`)}&_count=200`);
      expect(found.status).toBe(200);
      return (found.body.entry ?? []).filter((e) => JSON.stringify(e.resource).includes('"display":"rita"')).length;
    };
    const logoutsBefore = await ofRita('logout');
    const loginsBefore = await ofRita('login-success');
    const t = await signIn('rita', 'rita password 123');
    expect((await lock(t.refresh_token)).status).toBe(200);
    expect((await lock(t.refresh_token)).status).toBe(200);
    expect((await unlock(t.refresh_token, 'rita password 123')).status).toBe(200);
    // The unlock's login is recorded after both locks: once it is searchable, so are they.
    await until('the unlock to be recorded', async () => (await ofRita('login-success')) >= loginsBefore + 2);
    expect(await ofRita('logout')).toBe(logoutsBefore + 1);
  });

  it('wrong passwords at unlock count towards the lockout', async () => {
    const t = await signIn('lou', 'lou password 1234');
    expect((await lock(t.refresh_token)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await unlock(t.refresh_token, `wrong password ${i}`)).status).toBe(400);
    // Locked out: the right password fails too, at unlock and at the sign-in page.
    expect((await unlock(t.refresh_token, 'lou password 1234')).body.error_description).toBe(LOGIN_FAILED);
    const page = await send(flow.authorizeUrl(newPkce()));
    const again = await flow.login(page.text, 'lou', 'lou password 1234');
    expect(again.status).toBe(200);
    expect(pageMessage(again.text)).toBe(LOGIN_FAILED);
    // An admin's new password lifts the lockout.
    await flint(['user', 'passwd', 'lou'], 'lou password 5678\n');
    expect((await unlock(t.refresh_token, 'lou password 5678')).status).toBe(200);
  });

  it('only flint-ui locks and unlocks; refused requests change nothing', async () => {
    const t = await signIn('rita', 'rita password 123');
    for (const path of ['lock', 'unlock']) {
      const r = await postForm(`${origin}/auth/${path}`, { client_id: 'other', refresh_token: t.refresh_token, password: 'rita password 123' });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text).error).toBe('unauthorized_client');
    }
    expect(JSON.parse((await lock('bogus')).text).error).toBe('invalid_grant');
    expect((await new FhirClient(ws.baseUrl, t.access_token).get('Patient/p1')).status).toBe(200);
    expect((await flow.refresh(t.refresh_token)).status).toBe(200);
  });
});

describe('/flint/session and /flint/settings', () => {
  it('describe the signed-in user; only an admin changes the idle lock, within 1..240', async () => {
    const rita = (await signIn('rita', 'rita password 123')).access_token;
    const admin = (await signIn(adminName, ADMIN_PASSWORD)).access_token;
    expectOutcome(await api('GET', 'session'), 401);
    const s = await api<Record<string, unknown>>('GET', 'session', { token: rita });
    expect(s.status).toBe(200);
    expect(s.body).toEqual({
      username: 'rita', roles: ['reader'], admin: false, fhirUser: 'Practitioner/rita', clientId: 'flint-ui',
      scopes: UI_SCOPE.split(' '), permissions: [{ types: ['*'], interactions: ['read', 'search', 'history', 'operation'] }],
      idleLockMinutes: 15, workstationId: expect.stringMatching(/^[a-z0-9]{6}$/), version: expect.any(String),
    }); // prettier-ignore
    expect((await api<Record<string, unknown>>('GET', 'session', { token: admin })).body).toMatchObject({ username: adminName, roles: ['admin'], admin: true });

    expect(await api('GET', 'settings', { token: rita })).toEqual({ status: 200, body: { idleLockMinutes: 15 } });
    expectOutcome(await api('PUT', 'settings', { token: rita, body: { idleLockMinutes: 30 } }), 403);
    for (const bad of [{ idleLockMinutes: 0 }, { idleLockMinutes: 241 }, { idleLockMinutes: 'ten' }, { idle: 5 }, [5]]) {
      expectOutcome(await api('PUT', 'settings', { token: admin, body: bad }), 400);
    }
    expect(await api('GET', 'settings', { token: rita })).toEqual({ status: 200, body: { idleLockMinutes: 15 } });
    expect(await api('PUT', 'settings', { token: admin, body: { idleLockMinutes: 30 } })).toEqual({ status: 200, body: { idleLockMinutes: 30 } });
    expect(await api('GET', 'settings', { token: rita })).toEqual({ status: 200, body: { idleLockMinutes: 30 } });
    expect((await api<{ idleLockMinutes: number }>('GET', 'session', { token: rita })).body.idleLockMinutes).toBe(30);
  });
});
