/**
 * The session keeper against a real `flint serve` (test/support/workstation.ts): a `flint-ui`
 * session signed in through the real authorization endpoint (code flow with PKCE, as the UI
 * does), kept, locked by the keeper as on lock-screen/suspend, and unlocked with the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_LOCKED_DESCRIPTION } from '../../shared/api/session';
import type { DesktopLockReason } from '../../shared/desktop-api';
import { FhirClient } from '../../test/support/fhir-client';
import { runFlint } from '../../test/support/flint-process';
import { originOf } from '../../test/support/raw-http';
import { newPkce, postForm, SmartFlow } from '../../test/support/smart-http';
import { removeDir, startWorkstation, type RunningWorkstation } from '../../test/support/workstation';
import { createSessionKeeper } from './session-keeper';

const UI_SCOPE = 'openid fhirUser offline_access user/*.cruds';
const PASSWORD = 'nora password 123';

let ws: RunningWorkstation;
let origin: string;
let flow: SmartFlow;

interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** The UI's sign-in over HTTP: login page, login form, code from the redirect, code exchange. */
async function signIn(username: string, password: string): Promise<Tokens> {
  const pkce = newPkce();
  const back = await flow.login(await flow.loginPage(pkce), username, password);
  expect(back.status).toBe(302); // flint-ui: no consent page
  const code = new URL(back.headers.get('location')!).searchParams.get('code');
  expect(code).toBeTruthy();
  const tok = await flow.exchange(code!, pkce.verifier);
  expect(tok.status).toBe(200);
  return tok.body as unknown as Tokens;
}

const unlock = (refreshToken: string, password: string) =>
  postForm(`${origin}/auth/unlock`, { client_id: 'flint-ui', refresh_token: refreshToken, password });

/** A keeper for this workstation, recording its notifications and log lines. */
function keeperFor(baseUrl: string) {
  const notified: DesktopLockReason[] = [];
  const logs: string[] = [];
  const keeper = createSessionKeeper({ baseUrl, notifyLock: (r) => notified.push(r), log: (l) => logs.push(l) });
  return { keeper, notified, logs };
}

beforeAll(async () => {
  ws = await startWorkstation();
  origin = originOf(ws.baseUrl);
  flow = new SmartFlow({ origin, clientId: 'flint-ui', redirectUri: `${origin}/callback`, scope: UI_SCOPE });
  const add = await runFlint(['user', 'add', 'nora', '--role', 'reader', '--data-dir', ws.dataDir], { input: `${PASSWORD}\n` });
  expect(add.code, add.stderr).toBe(0);
  await ws.client().put('Patient/p1', { resourceType: 'Patient', id: 'p1' });
});

afterAll(async () => {
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

describe('SessionKeeper against a real core', () => {
  it('lock() freezes the kept session at the core, then tells the windows; the password unlocks it', async () => {
    const t = await signIn('nora', PASSWORD);
    const nora = new FhirClient(ws.baseUrl, t.access_token);
    expect((await nora.get('Patient/p1')).status).toBe(200);

    const { keeper, notified, logs } = keeperFor(ws.baseUrl);
    keeper.keep({ refreshToken: t.refresh_token });
    await keeper.lock('suspend');
    expect(notified).toEqual(['suspend']);
    expect(logs).toEqual([]);

    // Frozen: the access token is refused, the refresh token does not refresh.
    expect((await nora.get('Patient/p1')).status).toBe(401);
    expect(await flow.refresh(t.refresh_token)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: SESSION_LOCKED_DESCRIPTION } });
    // Still kept: a window opened now resumes it and finds it locked.
    expect(keeper.resume()).toEqual({ refreshToken: t.refresh_token });

    // A wrong password leaves it locked; the right one unlocks it (the UI keeps the new token).
    expect((await unlock(t.refresh_token, 'not the password')).status).toBe(400);
    expect((await flow.refresh(t.refresh_token)).body.error_description).toBe(SESSION_LOCKED_DESCRIPTION);
    const ok = await unlock(t.refresh_token, PASSWORD);
    expect(ok.status).toBe(200);
    const unlocked = JSON.parse(ok.text) as Tokens;
    keeper.keep({ refreshToken: unlocked.refresh_token });
    expect((await nora.get('Patient/p1')).status).toBe(200);
    const refreshed = await flow.refresh(unlocked.refresh_token);
    expect(refreshed.status).toBe(200);

    // Locks again after an unlock, with the token it was handed last.
    keeper.keep({ refreshToken: refreshed.body.refresh_token as string });
    await keeper.lock('lock-screen');
    expect(notified).toEqual(['suspend', 'lock-screen']);
    expect((await flow.refresh(refreshed.body.refresh_token as string)).body.error_description).toBe(SESSION_LOCKED_DESCRIPTION);
  });

  it('a second lock of a locked session is harmless', async () => {
    const t = await signIn('nora', PASSWORD);
    const { keeper, notified, logs } = keeperFor(ws.baseUrl);
    keeper.keep({ refreshToken: t.refresh_token });
    await keeper.lock('lock-screen');
    await keeper.lock('suspend');
    expect(notified).toEqual(['lock-screen', 'suspend']);
    expect(logs).toEqual([]);
    expect((await flow.refresh(t.refresh_token)).body.error_description).toBe(SESSION_LOCKED_DESCRIPTION);
    expect((await unlock(t.refresh_token, PASSWORD)).status).toBe(200);
  });

  it('a token the core no longer knows: the refusal is logged without the token, and the windows are told', async () => {
    const t = await signIn('nora', PASSWORD);
    const rotated = await flow.refresh(t.refresh_token); // the kept token is now spent
    expect(rotated.status).toBe(200);
    const { keeper, notified, logs } = keeperFor(ws.baseUrl);
    keeper.keep({ refreshToken: t.refresh_token });
    await keeper.lock('suspend');
    expect(notified).toEqual(['suspend']);
    expect(logs).toEqual(['flint: the core refused to lock the session (400 invalid_grant)']);
    // The live session was not touched.
    expect((await flow.refresh(rotated.body.refresh_token as string)).status).toBe(200);
  });

  it('after end() the keeper holds nothing, and lock() only tells the windows', async () => {
    const t = await signIn('nora', PASSWORD);
    const { keeper, notified, logs } = keeperFor(ws.baseUrl);
    keeper.keep({ refreshToken: t.refresh_token });
    keeper.end();
    expect(keeper.resume()).toBeNull();
    await keeper.lock('lock-screen');
    expect(notified).toEqual(['lock-screen']);
    expect(logs).toEqual([]);
    expect((await flow.refresh(t.refresh_token)).status).toBe(200); // not locked
  });
});
