/**
 * SMART App Launch end to end against a real workstation. A real SMART client library
 * (fhirclient's browser build, in a tiny app served from 127.0.0.1) completes a
 * standalone launch with PKCE in headless Chromium, a user signing in and picking a
 * patient on Flint's own pages; the app then reads in its patient's compartment and is
 * refused outside it. Then the flow's negatives over plain HTTP, following the forms as
 * a browser would: a replayed code, an unregistered or mismatched redirect URI, a wrong
 * PKCE verifier, and an account locked by wrong passwords.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_FAILED } from '../../main/core/auth/smart/pages';
import { launchChromium } from '../support/browser';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { startSmartApp, type SmartApp, type SmartAppResult } from '../support/smart-app';
import { SmartFlow, isConsentPage, isLoginPage, newPkce, pageMessage, send } from '../support/smart-http';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const SCOPE = 'openid fhirUser launch/patient offline_access patient/*.rs';
const PATIENTS = [
  { id: 'ann', given: 'Ann', family: 'Ash' },
  { id: 'ben', given: 'Ben', family: 'Birch' },
];
const obsOf = (patient: string) => `obs-${patient}`;
const ALICE = 'alice: correct horse 1';
const CAROL = 'carol: battery staple 2';

let ws: RunningWorkstation;
let app: SmartApp;
let flow: SmartFlow;
let clientId: string;
let origin: string;
/** Screenshots go here, never into the repo. FLINT_E2E_KEEP=1 keeps the directory. */
let artifacts: string;

const flint = async (args: string[], input?: string) => {
  const r = await runFlint([...args, '--data-dir', ws.dataDir], input === undefined ? {} : { input });
  expect(r.code, `flint ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const invalidGrant = { status: 400, body: { error: 'invalid_grant' } };

beforeAll(async () => {
  artifacts = mkdtempSync(join(tmpdir(), 'flint-e2e-'));
  // The app first: its port is part of the redirect URI to register.
  app = await startSmartApp();
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  const admin = ws.client();
  for (const p of PATIENTS) {
    const put = await admin.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, name: [{ given: [p.given], family: p.family }] });
    expect(put.status).toBe(201);
    const obs = { resourceType: 'Observation', id: obsOf(p.id), status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${p.id}` } };
    expect((await admin.put(`Observation/${obsOf(p.id)}`, obs)).status).toBe(201);
  }
  await flint(['user', 'add', 'alice', '--role', 'reader'], `${ALICE}\n`);
  const redirectUri = app.url('index.html');
  const added = await flint(['app', 'add', '--name', 'Test', '--redirect-uri', redirectUri, '--scope', SCOPE]);
  const id = /^client_id: (\S+)$/m.exec(added)?.[1];
  expect(id, added).toBeDefined();
  clientId = id!;
  app.configure({ clientId, iss: ws.baseUrl, scope: SCOPE, patients: PATIENTS.map((p) => p.id) });
  flow = new SmartFlow({ origin, clientId, redirectUri, scope: SCOPE });
});

afterAll(async () => {
  await app?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
  if (process.env.FLINT_E2E_KEEP) console.log(`e2e artifacts kept in ${artifacts}`);
  else if (artifacts) removeDir(artifacts);
});

describe('a real SMART client in a real browser', () => {
  it('fhirclient completes a standalone launch with PKCE, reads its patient and is refused another', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const sent: { method: string; url: URL; body: string | null }[] = [];
      page.on('request', (r) => sent.push({ method: r.method(), url: new URL(r.url()), body: r.postData() }));
      await page.goto(app.url('launch.html'));
      await page.waitForURL((u) => u.origin === origin && u.pathname === '/auth/authorize', { timeout: 30_000 });
      expect(await page.textContent('h1')).toBe('Sign in');
      expect(await page.textContent('strong')).toBe('Test');
      await page.fill('#username', 'alice');
      await page.fill('#password', ALICE);
      await page.click('button[type=submit]');
      await page.waitForSelector('input[name=patient]', { timeout: 30_000 });
      expect(await page.textContent('h1')).toBe('Allow access?');
      const shot = join(artifacts, 'consent.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

      const radios = page.locator('input[name=patient]');
      expect(await radios.count()).toBe(PATIENTS.length);
      const picked = await radios.first().getAttribute('value');
      expect(PATIENTS.map((p) => p.id)).toContain(picked);
      await radios.first().check();
      await page.click('button[value=allow]');
      await page.waitForSelector('#result[data-done="1"]', { timeout: 30_000 });
      const result = JSON.parse((await page.textContent('#result')) ?? '{}') as SmartAppResult;

      expect(result.error).toBeUndefined();
      // PKCE S256, checked on the wire: the challenge sent to authorize is the SHA-256 of
      // the verifier sent to the token endpoint with the code.
      const authorize = sent.find((r) => r.method === 'GET' && r.url.origin === origin && r.url.pathname === '/auth/authorize');
      expect(authorize?.url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize?.url.searchParams.get('client_id')).toBe(clientId);
      const challenge = authorize?.url.searchParams.get('code_challenge');
      const exchange = sent.find((r) => r.method === 'POST' && r.url.href === flow.token);
      const form = new URLSearchParams(exchange?.body ?? '');
      expect(form.get('grant_type')).toBe('authorization_code');
      const verifier = form.get('code_verifier');
      expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
      expect(createHash('sha256').update(verifier!).digest('base64url')).toBe(challenge);
      // The app got its code at the registered redirect URI.
      expect(app.log.some((l) => l.startsWith('GET /index.html?') && l.includes(`code=${encodeURIComponent(form.get('code') ?? '-')}`))).toBe(true);

      expect(result.patientId).toBe(picked);
      expect(result.grantedScope?.split(' ')).toEqual(expect.arrayContaining(['launch/patient', 'patient/*.rs']));
      expect(result.refreshToken).toBe(true);
      expect(result.patient).toEqual({ resourceType: 'Patient', id: picked });
      expect(result.observations?.refs).toEqual([`Observation/${obsOf(picked!)}`]);
      const others = PATIENTS.filter((p) => p.id !== picked).map((p) => ({ id: p.id, status: 403 }));
      expect(result.others).toEqual(others);
    } finally {
      await browser.close();
    }
  });
});

describe('the authorization flow refuses', () => {
  it('a replayed code, and then the refresh tokens issued for it', async () => {
    const pkce = newPkce();
    const code = await flow.code(pkce, 'alice', ALICE, 'ann');
    const first = await flow.exchange(code, pkce.verifier);
    expect(first.status).toBe(200);
    expect(first.body.patient).toBe('ann');
    const reader = new FhirClient(ws.baseUrl, first.body.access_token as string);
    expect((await reader.get('Patient/ann')).status).toBe(200);
    expect((await reader.get('Patient/ben')).status).toBe(403);
    // Refresh works (and rotates) until the code is replayed...
    const refreshed = await flow.refresh(first.body.refresh_token as string);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toEqual(expect.any(String));
    expect(await flow.exchange(code, pkce.verifier)).toMatchObject(invalidGrant);
    // ...which revokes what was issued for it (RFC 6749 10.5).
    expect(await flow.refresh(refreshed.body.refresh_token as string)).toMatchObject(invalidGrant);
  });

  it('a redirect URI not registered: an error page, no redirect; a code exchanged with another URI', async () => {
    const before = app.log.length;
    const port = new URL(app.origin).port;
    for (const uri of [app.url('other.html'), `${app.url('index.html')}?x=1`, `http://localhost:${port}/index.html`]) {
      const r = await send(flow.authorizeUrl(newPkce(), { redirect_uri: uri }));
      expect(r.status, uri).toBe(400);
      expect(r.headers.get('location'), uri).toBeNull();
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(isLoginPage(r.text)).toBe(false);
      expect(r.text).not.toContain('<form');
      expect(r.text).not.toContain(uri);
    }
    expect(app.log.length).toBe(before);
    const pkce = newPkce();
    const code = await flow.code(pkce, 'alice', ALICE, 'ann');
    const other = await flow.exchange(code, pkce.verifier, app.url('other.html'));
    expect(other).toMatchObject(invalidGrant);
    expect(other.body.access_token).toBeUndefined();
  });

  it('a wrong PKCE code_verifier, and the code is spent by the attempt', async () => {
    const pkce = newPkce();
    const code = await flow.code(pkce, 'alice', ALICE, 'ann');
    const wrong = await flow.exchange(code, newPkce().verifier);
    expect(wrong).toMatchObject(invalidGrant);
    expect(wrong.body.access_token).toBeUndefined();
    expect((await flow.exchange(code, pkce.verifier)).status).toBe(400);
  });

  it('the right password once five wrong ones have locked the account, with only the generic message', async () => {
    await flint(['user', 'add', 'carol', '--role', 'reader'], `${CAROL}\n`);
    const pkce = newPkce();
    // The password is right: it signs in before the lockout.
    expect(isConsentPage((await flow.login(await flow.loginPage(pkce), 'carol', CAROL)).text)).toBe(true);
    let page = await flow.loginPage(pkce);
    const messages: (string | undefined)[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await flow.login(page, 'carol', `wrong password ${i}`);
      expect(isLoginPage(r.text)).toBe(true);
      messages.push(pageMessage(r.text));
      page = r.text;
    }
    const wrong = page;
    const locked = await flow.login(page, 'carol', CAROL);
    expect(locked.status).toBe(200);
    expect(isConsentPage(locked.text)).toBe(false);
    expect(isLoginPage(locked.text)).toBe(true);
    // Locked or merely wrong: the same words, indeed the same page but for its CSRF token.
    expect(pageMessage(locked.text)).toBe(LOGIN_FAILED);
    expect(new Set(messages)).toEqual(new Set([LOGIN_FAILED]));
    const withoutCsrf = (html: string) => html.replace(/name="csrf" value="[^"]*"/, '');
    expect(withoutCsrf(locked.text)).toBe(withoutCsrf(wrong));
    expect(await flint(['user', 'list'])).toMatch(/^carol\treader\tlocked$/m);
  });
});
