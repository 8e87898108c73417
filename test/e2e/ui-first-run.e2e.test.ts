/**
 * The UI's first run and session, in Debian's Chromium against a real `flint serve` on a
 * fresh data dir, as a clinic's IT person meets it: the setup URL that `flint serve`
 * prints creates the administrator (once: the link is dead afterwards), the administrator
 * signs in through Flint's own sign-in page, every UI response carries the strict CSP,
 * the access token is renewed silently when it runs out, and the idle lock hides the
 * screen, refuses a wrong password and, with the right one, returns to the screen exactly
 * as it was (what was typed is still there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { a11yViolations, openBrowser, screenshot, type UiBrowser, expectCount } from '../support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const ADMIN = { username: 'margaret', password: 'a long admin passphrase 7' };
const SETUP_LINE = /First run: open (http:\/\/\S+\/setup#token=[A-Za-z0-9_-]+) within an hour/;

let ws: RunningWorkstation;
let ui: UiBrowser;
let origin: string;
let setupUrl: string;

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  const m = SETUP_LINE.exec(ws.output());
  expect(m, ws.output()).not.toBeNull();
  setupUrl = m![1]!;
  ui = await openBrowser();
});

afterAll(async () => {
  await ui?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

async function signInOnFlintPage(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the UI on a fresh workstation', () => {
  it('serves every UI file with the strict CSP, and the app under any of its paths', async () => {
    expect(ws.output()).toContain(`The workstation UI: ${origin}/\n`);
    for (const path of ['/', '/patients/x', '/setup', '/flint.svg']) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const html = await (await fetch(`${origin}/`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${origin}${asset}`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    // A made-up file under /assets is not the app.
    expect((await fetch(`${origin}/assets/nothing.js`)).status).toBe(404);
  });

  it('creates the administrator through the one-time setup URL, then signs in', async () => {
    const { context, page } = await ui.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // Without the link's token, the setup screen refuses to work.
    await page.goto(`${origin}/setup`);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/setup link/);
    // The start screen says the workstation needs its administrator.
    await page.goto(`${origin}/`);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/no administrator yet/);

    await page.goto(setupUrl);
    // The token leaves the address bar as soon as the screen starts.
    await page.waitForURL(`${origin}/setup`);
    await page.getByLabel('Administrator’s user name').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill('not the same');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not the same/);
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'setup');
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByRole('heading', { name: 'Flint is ready' }).waitFor();

    // The link is spent: a second use is refused in words.
    const again = await context.newPage();
    await again.goto(setupUrl);
    await again.getByLabel('Password', { exact: true }).fill('another long passphrase 9');
    await again.getByLabel('Password again').fill('another long passphrase 9');
    await again.getByRole('button', { name: 'Create administrator' }).click();
    await expect(again.getByRole('alert').textContent()).resolves.toMatch(/already has an administrator|not valid/);
    await again.close();

    await page.getByRole('link', { name: 'Go to sign-in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Flint's own sign-in page (no consent page for the first-party UI).
    await page.getByLabel('Username').waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in');
    await signInOnFlintPage(page, ADMIN.username, 'wrong password');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/wrong/);
    await signInOnFlintPage(page, ADMIN.username, ADMIN.password);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    // The code never stays in the address bar or history.
    expect(page.url()).not.toContain('code=');
    await expectCount(page.getByRole('link', { name: 'Admin' }), 1);
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'home');
    // No CSP violation, no failed script on the way.
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await context.close();
  });

  it('rebuilds the search index from the admin screen and shows how it went', async () => {
    const admin = ws.client();
    for (let i = 0; i < 30; i++) expect((await admin.put(`Patient/ix${i}`, { resourceType: 'Patient', id: `ix${i}`, name: [{ family: `Index${i}` }] })).status).toBe(201);
    const { context, page } = await ui.newPage();
    await page.goto(`${origin}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInOnFlintPage(page, ADMIN.username, ADMIN.password);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('link', { name: 'Maintenance' }).click();
    await expect(page.getByRole('status').filter({ hasText: /rebuilt/i }).textContent()).resolves.toMatch(/Not rebuilt since Flint started/);
    await page.getByRole('button', { name: 'Rebuild the search index' }).click();
    await expect(page.getByRole('status').filter({ hasText: /Rebuilt \d/ }).textContent()).resolves.toMatch(/Rebuilt 30 records/);
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'admin-maintenance');
    // Search works on the rebuilt index.
    const found = await admin.get<{ total?: number }>('Patient?name=Index1&_summary=count');
    expect(found.body.total).toBe(11); // Index1, Index10..Index19
    await context.close();
  });

  it('locks after the idle time and unlocks with the password, keeping what was typed', async () => {
    const { context, page } = await ui.newPage();
    await page.goto(`${origin}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInOnFlintPage(page, ADMIN.username, ADMIN.password);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    // Page time from here on is the test's to move.
    await page.clock.install();
    const refreshes: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/auth/token') && r.postData()?.includes('grant_type=refresh_token')) refreshes.push(r.url());
    });
    // Six minutes on, the five-minute access token has run out: the next search renews it
    // silently and works.
    await page.clock.fastForward('06:00');
    const search = page.getByLabel('Search patients');
    await search.fill('Ashworth');
    await page.getByText(/No patient|patients? found/).waitFor();
    expect(refreshes).toHaveLength(1);

    // Fifteen minutes (the default) without a key or a click.
    await page.clock.fastForward('15:10');
    const dialog = page.getByRole('dialog', { name: 'Locked' });
    await dialog.waitFor();
    await expect(page.locator('.app').isVisible()).resolves.toBe(false);
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'locked');

    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/wrong/);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(search.inputValue()).resolves.toBe('Ashworth');
    await expect(page.locator('.app').isVisible()).resolves.toBe(true);
    await context.close();
  });
});
