/**
 * The UI in a real browser against a real workstation: Debian's Chromium (browser.ts)
 * driving the built UI that `flint serve` serves at /. Helpers to sign in through the
 * real sign-in page, save screenshots under test-results/ui/ (look at them; README shows
 * the best), and check a screen with axe-core for WCAG 2.1 A/AA violations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from './browser';
import type { FhirClient } from './fhir-client';
import { REPO, runFlint } from './flint-process';
import { UNTIL_DEFAULT_MS } from './until';

export const SCREENSHOTS = join(REPO, 'test-results', 'ui');

/** The window size the UI must work at (and larger). */
export const VIEWPORT = { width: 1280, height: 800 };

export interface UiBrowser {
  browser: Browser;
  /** A fresh context (no shared storage) with one page. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<UiBrowser> {
  const browser = await launchChromium();
  return {
    browser,
    newPage: async () => {
      const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-GB', timezoneId: 'UTC' });
      const page = await context.newPage();
      page.setDefaultTimeout(UNTIL_DEFAULT_MS / 2);
      return { context, page };
    },
    close: () => browser.close(),
  };
}

/** `flint user add NAME --role ROLE` with the password on stdin. */
export async function addUser(dataDir: string, username: string, password: string, roles: string[]): Promise<void> {
  const args = ['user', 'add', username, ...roles.flatMap((r) => ['--role', r]), '--data-dir', dataDir];
  const r = await runFlint(args, { input: `${password}\n` });
  if (r.code !== 0) throw new Error(`flint user add failed: ${r.stderr}`);
}

/** Signs in through the UI and Flint's own sign-in page; ends on the first signed-in screen. */
export async function signIn(page: Page, origin: string, username: string, password: string, path = '/'): Promise<void> {
  await page.goto(`${origin}${path}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Saves a full-page screenshot as test-results/ui/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** WCAG 2.1 A and AA violations on the page as it is now, as readable lines. */
export async function a11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(' | ')}`);
}

/**
 * Waits until `locator` matches exactly `n` elements (a list that refetches shows its new
 * rows a moment later); fails with the last count after `timeoutMs`. For "none there", check
 * after waiting for what must be there instead: absence is true before anything renders.
 */
export async function expectCount(locator: Locator, n: number, timeoutMs = UNTIL_DEFAULT_MS / 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await locator.count();
  while (last !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} of ${locator.toString()}, found ${last}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await locator.count();
  }
}

/** Fails with the violations listed when the page as it is now breaks WCAG 2.1 A/AA. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await a11yViolations(page);
  if (violations.length > 0) throw new Error(`${where}: axe found WCAG 2.1 A/AA violations:\n${violations.join('\n')}`);
}

/** Writes test data through the FHIR API as transactions of 250 (PUT when a resource has an id). */
export async function seedResources(client: FhirClient, resources: Resource[]): Promise<void> {
  for (let i = 0; i < resources.length; i += 250) {
    const entry: BundleEntry[] = resources.slice(i, i + 250).map((resource) => ({
      resource,
      request: { method: resource.id ? 'PUT' : 'POST', url: resource.id ? `${resource.resourceType}/${resource.id}` : resource.resourceType },
    }));
    const r = await client.post<Bundle>('', { resourceType: 'Bundle', type: 'transaction', entry });
    if (r.status !== 200) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  }
}
