/**
 * The UI in the desktop app (issue 14), in Debian's Chromium against a real `flint serve`:
 * the user signs in once, and a reload (a window opened again from the tray) resumes the
 * session the shell kept instead of signing in again; the shell's lock (OS screen locked,
 * computer asleep) brings up the lock screen and the core refuses the session's tokens;
 * the password returns to the same screen; a reload while locked opens on the lock
 * screen; sign-out makes the shell forget the session.
 *
 * Electron cannot run here, so a test double stands in for the shell: `window.flint`
 * injected before the page's scripts, whose memory (the kept session) lives in this test
 * process, so it survives reloads as the main process's memory does, and which locks the
 * way main/shell does: POST /auth/lock with the kept refresh token, then onLock.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesktopLockReason, KeptSession } from '../../shared/desktop-api';
import { addUser, expectAccessible, openBrowser, screenshot, signIn, type UiBrowser } from '../support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const USER = 'nora';
const PASSWORD = 'nora naps 31 afternoons';

let ws: RunningWorkstation;
let ui: UiBrowser;
let context: BrowserContext;
let page: Page;
let origin: string;

/** The shell's memory: what the main process would hold. */
const shell = { session: null as KeptSession | null, handed: [] as string[], resumed: 0, ended: 0 };
/** What the page asked the core: sign-in pages, its own locks; the last bearer token it sent. */
const seen = { authorize: 0, pageLocks: 0, bearer: '' };

/** window.flint as the preload builds it, each function calling into this process. */
const FAKE_PRELOAD = `(() => {
  const listeners = new Set();
  window.flint = Object.freeze({
    version: () => '0.0.0-test',
    resumeSession: () => window.__flintShell('resume'),
    keepSession: (session) => window.__flintShell('keep', session),
    endSession: () => window.__flintShell('end'),
    openExternal: (url) => window.__flintShell('open', url),
    onLock: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
  });
  // The main process's 'flint:lock' message, sent by the test.
  window.__flintFireLock = (reason) => { for (const fn of listeners) fn(reason); return listeners.size; };
})();`;

async function shellCall(op: string, arg?: unknown): Promise<unknown> {
  switch (op) {
    case 'resume':
      shell.resumed++;
      return shell.session;
    case 'keep': {
      // As the main process keeps it: the token, and the user's name once the UI knows it.
      const { refreshToken, username } = arg as KeptSession;
      shell.session = { refreshToken, ...(username !== undefined ? { username } : {}) };
      if (shell.handed.at(-1) !== refreshToken) shell.handed.push(refreshToken); // a name alone is no new token
      return undefined;
    }
    case 'end':
      shell.session = null;
      shell.ended++;
      return undefined;
    default:
      throw new Error(`the UI called ${op}, which this test does not expect`);
  }
}

const form = (path: string, fields: Record<string, string>) =>
  fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

/** What main/shell does on 'lock-screen' or 'suspend': tell the core with the kept token, then the UI. */
async function shellLocks(reason: DesktopLockReason): Promise<void> {
  const res = await form('/auth/lock', { client_id: 'flint-ui', refresh_token: shell.session!.refreshToken });
  expect(res.status).toBe(200);
  expect(await page.evaluate((r) => (window as unknown as { __flintFireLock(r: string): number }).__flintFireLock(r), reason)).toBe(1);
}

const refreshAnswer = async (token: string) => {
  const res = await form('/auth/token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'flint-ui' });
  return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string } };
};

const sessionStatus = async (bearer: string) => (await fetch(`${origin}/flint/session`, { headers: { Authorization: `Bearer ${bearer}` } })).status;

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  await addUser(ws.dataDir, USER, PASSWORD, ['writer']);
  ui = await openBrowser();
  ({ context, page } = await ui.newPage());
  await page.exposeFunction('__flintShell', shellCall);
  await page.addInitScript(FAKE_PRELOAD);
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/auth/authorize') seen.authorize++;
    if (url.pathname === '/auth/lock') seen.pageLocks++;
    const auth = r.headers()['authorization'];
    if (auth?.startsWith('Bearer ')) seen.bearer = auth.slice('Bearer '.length);
  });
});

afterAll(async () => {
  await context?.close();
  await ui?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

const lockDialog = () => page.getByRole('dialog', { name: 'Locked' });
const search = () => page.getByLabel('Search patients');

describe('the UI in the desktop app, with a double of the shell', () => {
  it('signs in once; a reload resumes the kept session, and the shell gets the rotated token', async () => {
    await signIn(page, origin, USER, PASSWORD);
    expect(shell.resumed).toBe(1); // the first page asked, and there was nothing kept
    await expect.poll(() => shell.handed.length).toBe(1);
    const first = shell.session!.refreshToken;
    const signIns = seen.authorize;

    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(shell.resumed).toBe(2);
    expect(seen.authorize).toBe(signIns); // no sign-in page
    await expect(page.getByRole('button', { name: 'Sign in' }).count()).resolves.toBe(0);
    await expect.poll(() => shell.handed.length).toBe(2);
    expect(shell.session!.refreshToken).not.toBe(first);
    // Refresh tokens rotate: the one kept before is spent.
    expect((await refreshAnswer(first)).status).toBe(400);
  });

  it('locks when the shell locks: the core refuses the tokens; the password returns to the same screen', async () => {
    await search().fill('Ashworth');
    await page.getByText(/No patient|patients? found/).waitFor();
    const bearer = seen.bearer;
    expect(await sessionStatus(bearer)).toBe(200);
    const locksBefore = seen.pageLocks;

    await shellLocks('lock-screen');
    await lockDialog().waitFor();
    await expect(lockDialog().textContent()).resolves.toMatch(/computer’s screen was locked.*password of nora/);
    await expect(page.locator('.app').isVisible()).resolves.toBe(false);
    // The shell told the core; the page did not tell it a second time.
    expect(seen.pageLocks).toBe(locksBefore);
    expect(await sessionStatus(bearer)).toBe(401);
    expect((await refreshAnswer(shell.session!.refreshToken)).body.error_description).toMatch(/session is locked/);
    await expectAccessible(page, 'locked by the shell');

    const kept = shell.handed.length;
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(lockDialog().getByRole('alert').textContent()).resolves.toMatch(/wrong/);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await lockDialog().waitFor({ state: 'detached' });
    await expect(search().inputValue()).resolves.toBe('Ashworth');
    expect(new URL(page.url()).pathname).toBe('/');
    // Unlocking rotates the refresh token too, and the shell has the new one.
    await expect.poll(() => shell.handed.length).toBe(kept + 1);
    expect((await refreshAnswer(shell.handed.at(-2)!)).status).toBe(400);
  });

  it('a reload while locked opens on the lock screen, not the sign-in', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sync' }).click();
    await page.getByRole('heading', { name: 'Sync', exact: true }).waitFor();
    const path = new URL(page.url()).pathname;
    await shellLocks('suspend');
    await lockDialog().waitFor();
    await expect(lockDialog().textContent()).resolves.toMatch(/went to sleep/);
    const signIns = seen.authorize;

    await page.reload();
    await lockDialog().waitFor();
    // The shell kept the user's name with the token: the lock screen says whose session it is.
    expect(shell.session?.username).toBe(USER);
    await expect(lockDialog().textContent()).resolves.toMatch(new RegExp(`This session is locked\\. Enter the password of ${USER} to continue`));
    expect(seen.authorize).toBe(signIns);
    await expect(page.getByRole('button', { name: 'Sign in' }).count()).resolves.toBe(0);
    expect(shell.ended).toBe(0);
    await expectAccessible(page, 'opened on a locked session');
    await screenshot(page, 'desktop-resumed-locked');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Sync', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe(path);
    await expect(page.getByRole('dialog', { name: 'Locked' }).count()).resolves.toBe(0);
  });

  it('signs out: the shell forgets the session, and a reload shows the sign-in', async () => {
    const last = shell.session!.refreshToken;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect.poll(() => shell.ended).toBe(1);
    expect(shell.session).toBeNull();
    expect((await refreshAnswer(last)).status).toBe(400);

    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(page.getByRole('navigation', { name: 'Main' }).count()).resolves.toBe(0);
  });
});
