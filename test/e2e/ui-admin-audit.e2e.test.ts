/**
 * Administration and the audit viewer in a real browser against a real workstation
 * (`flint serve`): an administrator adds a reader and sets the idle lock through the
 * Admin screens; the reader sees no Admin or Audit navigation and no edit links, and
 * /admin is not found for them; an auditor filters the audit trail by user and action and
 * sees exactly the events that user made, opens one, verifies the hash chain and exports
 * the filtered events as NDJSON (the downloaded file checked line by line). Screenshots
 * under test-results/ui/; axe-core finds no WCAG 2.1 A/AA violation on any of them.
 */
import { readFileSync } from 'node:fs';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { runFlint } from '../support/flint-process';
import { a11yViolations, addUser, openBrowser, screenshot as saveScreenshot, signIn, type UiBrowser, expectCount } from '../support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const ADMIN = { username: 'ada', password: 'admin ada 42 lighthouses' };
const AUDITOR = { username: 'otto', password: 'auditor otto 7 ledgers' };
/** Added through the UI by the administrator. */
const READER = { username: 'rita', password: 'reader rita 9 bookshelves' };
/** A reader whose requests the test makes itself (API, not browser), so its events are known exactly. */
const SAM = 'sam';

let ws: RunningWorkstation;
let ui: UiBrowser;
let origin: string;

/** Goes to a path inside the UI without reloading it (a reload would forget the session: tokens live in memory). */
async function navigate(page: Page, path: string): Promise<void> {
  await page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

/** From the top: a full-page shot of a scrolled page would show the sticky header mid-page. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, name);
}

async function noViolations(page: Page): Promise<void> {
  expect(await a11yViolations(page)).toEqual([]);
}

/** A token acting as a user (their roles), minted by the CLI as a script would. */
async function userToken(username: string): Promise<string> {
  const r = await runFlint(['token', 'create', '--user', username, '--scope', 'user/*.rs', '--ttl', '1h', '--data-dir', ws.dataDir]);
  if (r.code !== 0) throw new Error(`flint token create --user ${username}: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  await addUser(ws.dataDir, ADMIN.username, ADMIN.password, ['admin']);
  await addUser(ws.dataDir, AUDITOR.username, AUDITOR.password, ['auditor']);
  await addUser(ws.dataDir, SAM, 'reader sam 3 lanterns', ['reader']);
  const admin = ws.client();
  for (const [id, family] of [['p1', 'Ash'], ['p2', 'Birch']] as const) {
    expect((await admin.put(`Patient/${id}`, { resourceType: 'Patient', id, name: [{ family, given: ['Test'] }] })).status).toBe(201);
  }
  ui = await openBrowser();
});

afterAll(async () => {
  await ui?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

describe('administration', () => {
  it('an administrator adds a reader and sets the idle lock', async () => {
    const { context, page } = await ui.newPage();
    try {
      await signIn(page, origin, ADMIN.username, ADMIN.password, '/admin/users');
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expectCount(nav.getByRole('link', { name: 'Admin' }), 1);
      await page.getByRole('heading', { name: 'Users', level: 2 }).waitFor();
      await page.getByRole('row', { name: new RegExp(`^${ADMIN.username}\\b`) }).waitFor();

      // Refused by the browser-side checks first: nothing is sent, the typed values stay.
      await page.getByLabel('Username', { exact: true }).fill(READER.username);
      await page.getByLabel('Password', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByText('A password needs at least 10 characters.').waitFor();
      await page.getByText('Choose at least one role.').waitFor();
      expect(await page.getByLabel('Username', { exact: true }).inputValue()).toBe(READER.username);

      await page.getByLabel('Password', { exact: true }).fill(READER.password);
      await page.getByLabel('Password again', { exact: true }).fill(READER.password);
      await page.getByRole('checkbox', { name: 'reader', exact: true }).check();
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByText(`User ${READER.username} added with the role reader.`).waitFor();
      const row = page.getByRole('row', { name: new RegExp(`^${READER.username}\\b`) });
      await expectCount(row.getByRole('cell', { name: 'reader' }), 1);
      await expectCount(row.getByText('Active'), 1);

      // The same username again: the server's refusal lands next to the field.
      await page.getByLabel('Username', { exact: true }).fill(READER.username);
      await page.getByLabel('Password', { exact: true }).fill(READER.password);
      await page.getByLabel('Password again', { exact: true }).fill(READER.password);
      await page.getByRole('checkbox', { name: 'reader', exact: true }).check();
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByText('A user with that username exists already.').waitFor();
      await expect(page.getByLabel('Username', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
      await screenshot(page, 'admin-users');
      await noViolations(page);

      // Managing a user: roles, disable and enable, a new password (sam: not used in the browser).
      const samRow = () => page.getByRole('row', { name: new RegExp(`^${SAM}\\b`) });
      await page.getByRole('button', { name: `Manage ${SAM}` }).click();
      const manage = page.getByRole('group', { name: `Manage ${SAM}` });
      await manage.getByRole('checkbox', { name: 'writer', exact: true }).check();
      await manage.getByRole('button', { name: 'Save roles' }).click();
      await manage.getByText(`${SAM} now has the roles reader, writer.`).waitFor();
      await expectCount(samRow().getByRole('cell', { name: 'reader, writer' }), 1);
      await manage.getByRole('checkbox', { name: 'writer', exact: true }).uncheck();
      await manage.getByRole('button', { name: 'Save roles' }).click();
      await manage.getByText(`${SAM} now has the role reader.`).waitFor();
      await manage.getByRole('button', { name: 'Disable account' }).click();
      await manage.getByText(`${SAM} is disabled: they cannot sign in.`).waitFor();
      await expectCount(samRow().getByText('Disabled'), 1);
      await manage.getByRole('button', { name: 'Enable account' }).click();
      await manage.getByText(`${SAM} is enabled again.`).waitFor();
      await manage.getByLabel('New password', { exact: true }).fill('too short');
      await manage.getByRole('button', { name: 'Reset password' }).click();
      await manage.getByText('A password needs at least 10 characters.').waitFor();
      await manage.getByLabel('New password', { exact: true }).fill('reader sam 4 new lanterns');
      await manage.getByLabel('New password again', { exact: true }).fill('reader sam 4 new lanterns');
      await manage.getByRole('button', { name: 'Reset password' }).click();
      await manage.getByText(`The password of ${SAM} was reset.`, { exact: false }).waitFor();
      await noViolations(page);
      // The last administrator cannot take away their own rights: the server says so, in words.
      await page.getByRole('button', { name: `Manage ${ADMIN.username}` }).click();
      const own = page.getByRole('group', { name: `Manage ${ADMIN.username}` });
      await expect(own.getByRole('button', { name: 'Disable account' }).isDisabled()).resolves.toBe(true);
      await own.getByRole('checkbox', { name: /^admin/ }).uncheck();
      await own.getByRole('checkbox', { name: 'reader', exact: true }).check();
      await own.getByRole('button', { name: 'Save roles' }).click();
      await own.getByText(/is the last enabled administrator/).waitFor();
      await page.getByRole('button', { name: `Manage ${ADMIN.username}` }).click();

      // Apps: register a SMART app, then revoke it after confirming.
      await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Apps' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Growth charts');
      await page.getByLabel('Redirect URIs').fill('http://127.0.0.1:9999/callback');
      await page.getByRole('button', { name: 'Register app' }).click();
      const registered = page.getByRole('status').filter({ hasText: 'Registered Growth charts' });
      await registered.waitFor();
      const clientId = (await registered.locator('code').innerText()).trim();
      const appRow = page.getByRole('row', { name: /^Growth charts/ });
      await expectCount(appRow.getByText('Active'), 1);
      await noViolations(page);
      await appRow.getByRole('button', { name: 'Revoke Growth charts' }).click();
      await page.getByRole('alertdialog', { name: /Revoke Growth charts\?/ }).getByRole('button', { name: 'Revoke Growth charts' }).click();
      await appRow.getByText('Revoked').waitFor();
      const apps = await fetch(`${origin}/flint/admin/apps`, { headers: { authorization: `Bearer ${ws.token}` } });
      expect(((await apps.json()) as { apps: Array<{ clientId: string; revoked: boolean }> }).apps.find((a) => a.clientId === clientId)?.revoked).toBe(true);

      // Security: the idle lock.
      await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Security' }).click();
      const minutes = page.getByLabel('Lock the screen after this many minutes without use');
      await minutes.fill('500');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Enter a whole number of minutes from 1 to 240.').waitFor();
      await minutes.fill('30');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved: the screen locks after 30 minutes without use.').waitFor();
      const settings = await fetch(`${origin}/flint/settings`, { headers: { authorization: `Bearer ${ws.token}` } });
      expect(await settings.json()).toEqual({ idleLockMinutes: 30 });
      await noViolations(page);

      // The sync panel, as the header's badge links to it.
      await page.getByRole('link', { name: /Sync not set up/ }).click();
      await page.getByRole('heading', { name: 'Sync', level: 1 }).waitFor();
      await page.getByRole('heading', { name: /Conflicts/ }).waitFor();
      await page.getByText('No conflicts', { exact: false }).waitFor();
      await page.getByText('Nothing is quarantined.').waitFor();
      await screenshot(page, 'sync-panel');
      await noViolations(page);

      // The central server: the form checks the address before sending; saved, sync starts (to a
      // server that is not there: offline) and the password never comes back; then removed.
      await page.getByRole('link', { name: 'Central server settings' }).click();
      await page.getByRole('heading', { name: 'Set up sync' }).waitFor();
      await page.getByLabel('Clinic database address').fill('not a url');
      await page.getByRole('button', { name: 'Save and start syncing' }).click();
      await page.getByText('This is not a web address.', { exact: false }).waitFor();
      await page.getByLabel('Clinic database address').fill('http://127.0.0.1:9/clinic');
      await page.getByLabel('User name on the server').fill('ws-front');
      await page.getByLabel('Password on the server').fill('couch secret 1');
      await page.getByRole('button', { name: 'Save and start syncing' }).click();
      await page.getByText('Saved. This workstation now syncs with http://127.0.0.1:9/clinic', { exact: false }).waitFor();
      await page.getByRole('heading', { name: 'Connection' }).waitFor();
      await expect(page.getByLabel('Password on the server').inputValue()).resolves.toBe('');
      await expect(page.getByLabel('User name on the server').inputValue()).resolves.toBe('ws-front');
      const live = page.getByRole('region', { name: 'Live status' });
      await live.getByText('http://127.0.0.1:9/clinic').waitFor();
      await page.getByRole('banner').getByRole('link', { name: /Offline|Syncing|Sync problem/ }).waitFor();
      const saved = await fetch(`${origin}/flint/sync/settings`, { headers: { authorization: `Bearer ${ws.token}` } });
      expect(await saved.json()).toMatchObject({ configured: true, remote: 'http://127.0.0.1:9/clinic', username: 'ws-front' });
      await screenshot(page, 'admin-server');
      await noViolations(page);
      await page.getByRole('button', { name: 'Stop syncing…' }).click();
      await page.getByRole('alertdialog', { name: 'Stop syncing with this server?' }).getByRole('button', { name: 'Stop syncing' }).click();
      await page.getByText('Sync removed', { exact: false }).waitFor();
      await page.getByRole('heading', { name: 'Set up sync' }).waitFor();
      await page.getByRole('banner').getByRole('link', { name: /Sync not set up/ }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('the reader sees no Admin or Audit navigation and no edit links, and /admin is not found', async () => {
    const { context, page } = await ui.newPage();
    try {
      await signIn(page, origin, READER.username, READER.password);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Patients' }).waitFor();
      await expect(nav.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
      await expect(nav.getByRole('link', { name: 'Audit' }).count()).resolves.toBe(0);
      await expectCount(nav.getByRole('link', { name: 'Sync' }), 1);
      for (const path of ['/', '/patients/p1', '/r/Patient/p1']) {
        await navigate(page, path);
        await page.locator('main h1').first().waitFor();
        // Settled: nothing loading any more (the sync status stream keeps the network busy).
        await expect.poll(() => page.locator('main .loading').count()).toBe(0);
        await expect(page.getByRole('link', { name: /edit|new patient/i }).count(), `edit links at ${path}`).resolves.toBe(0);
      }
      await navigate(page, '/admin');
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
      await navigate(page, '/audit');
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('the audit viewer', () => {
  it('an auditor filters by user and action, opens an event, verifies the chain and exports NDJSON', async () => {
    // What sam does, through the API: three reads (one of a patient that does not exist) and a search.
    const sam = new FhirClient(ws.baseUrl, await userToken(SAM));
    expect((await sam.get('Patient/p1')).status).toBe(200);
    expect((await sam.get('Patient/p2')).status).toBe(200);
    expect((await sam.get('Patient/nobody')).status).toBe(404);
    expect((await sam.get('Patient?family=Ash')).status).toBe(200);

    const { context, page } = await ui.newPage();
    try {
      await signIn(page, origin, AUDITOR.username, AUDITOR.password, '/audit');
      await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expectCount(nav.getByRole('link', { name: 'Audit' }), 1);
      await expect(nav.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
      // The chain is checked on arrival.
      await page.getByText('Chain intact').waitFor();

      await page.getByLabel('Who').selectOption('user');
      await page.getByLabel('User name').fill(SAM);
      await page.getByLabel('Action').selectOption('R');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\/audit\?user=sam&action=R$/);
      await page.getByText(/^Events 1–3( of 3)?, newest first\./).waitFor();
      const rows = page.getByRole('table', { name: 'Audit events' }).locator('tbody tr.data-table-row');
      await expectCount(rows, 3);
      const texts = await rows.allInnerTexts();
      for (const t of texts) {
        expect(t).toContain(`${SAM} via flint-cli`);
        expect(t).toContain('Read');
      }
      // Newest first: the failed read of Patient/nobody, then p2, then p1.
      expect(texts[0]).toMatch(/Patient\/nobody[\s\S]*Minor failure/);
      expect(texts[1]).toMatch(/Patient\/p2[\s\S]*Success/);
      expect(texts[2]).toMatch(/Patient\/p1[\s\S]*Success/);
      await screenshot(page, 'audit-viewer');
      await noViolations(page);

      // Oldest first, on request.
      await page.getByRole('button', { name: /^Time/ }).click();
      await page.getByText(/^Events 1–3( of 3)?, oldest first\./).waitFor();
      await expect(rows.first().innerText()).resolves.toMatch(/Patient\/p1/);
      await page.getByRole('button', { name: /^Time/ }).click();
      await page.getByText(/^Events 1–3( of 3)?, newest first\./).waitFor();

      // Details of the newest: agents with the network address, the entity, the outcome.
      await rows.first().click();
      await page.waitForURL(/event=/);
      const detail = page.getByRole('complementary', { name: 'Event details' });
      await detail.locator('dl').getByText('HTTP 404').waitFor();
      await expectCount(detail.getByText(`user ${SAM}`), 1);
      await expectCount(detail.getByText('app flint-cli'), 1);
      await expect(detail.getByRole('cell', { name: /^127\.0\.0\.1$|^::ffff:127\.0\.0\.1$/ }).count()).resolves.toBeGreaterThan(0);
      await expect(detail.getByText('Patient/nobody').count()).resolves.toBeGreaterThan(0);
      await screenshot(page, 'audit-detail');
      await noViolations(page);
      await detail.getByRole('link', { name: 'Close details' }).click();
      await page.waitForURL(/\/audit\?user=sam&action=R$/);

      // Verify again on demand.
      await page.getByRole('button', { name: 'Verify now' }).click();
      await page.getByText('Chain intact').waitFor();

      // Export what the filters match: one AuditEvent a line, exactly sam's three reads.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export as NDJSON' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^audit-events-\d{4}-\d{2}-\d{2}\.ndjson$/);
      const text = readFileSync((await download.path())!, 'utf8');
      const lines = text.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(3);
      const events = lines.map((l) => JSON.parse(l) as AuditEvent);
      for (const e of events) {
        expect(e.resourceType).toBe('AuditEvent');
        expect(e.action).toBe('R');
        expect(e.agent?.some((a) => a.who?.identifier?.system === 'urn:flint:user' && a.who.identifier.value === SAM)).toBe(true);
      }
      // Oldest first in the export, as in the log.
      expect(events.map((e) => e.entity?.find((x) => x.what?.reference)?.what?.reference)).toEqual(['Patient/p1', 'Patient/p2', 'Patient/nobody']);
      await page.getByText('Exported 3 events matching the filters', { exact: false }).waitFor();

      // One more filter: only the failure.
      await page.getByLabel('Outcome').selectOption('4');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/outcome=4/);
      await page.getByText(/^Events 1–1\b/).waitFor();
      await expectCount(rows, 1);
    } finally {
      await context.close();
    }
  });
});
