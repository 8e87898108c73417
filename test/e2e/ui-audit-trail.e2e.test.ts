/**
 * What staff do in the UI is what the audit viewer shows. A writer creates a patient,
 * corrects it (a move away with the correction unsaved asks first, and staying keeps it)
 * and records a blood pressure, all by clicking through the screens as a
 * nurse would; an administrator then opens the audit viewer, filters by that user, and
 * finds exactly those writes: two creates (the Patient, the Observation) and one update
 * (the Patient), each naming the record, the user and the UI as the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { a11yViolations, addUser, openBrowser, signIn, type UiBrowser } from '../support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const WRITER = { username: 'will', password: 'will the writer 123' };
const ADMIN = { username: 'ada', password: 'ada the admin 1234' };

let ws: RunningWorkstation;
let ui: UiBrowser;
let origin: string;
let patientId: string;
let observationId: string;

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  await addUser(ws.dataDir, WRITER.username, WRITER.password, ['writer']);
  await addUser(ws.dataDir, ADMIN.username, ADMIN.password, ['admin']);
  ui = await openBrowser();
});

afterAll(async () => {
  await ui?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

const pathOf = (page: Page) => new URL(page.url()).pathname;

describe('the audit viewer lists what was done in the UI', () => {
  it('a writer creates and corrects a patient and records a blood pressure, by clicking', async () => {
    const { context, page } = await ui.newPage();
    await signIn(page, origin, WRITER.username, WRITER.password);
    await page.getByRole('link', { name: 'New patient' }).click();
    await page.getByLabel('Family name').fill('Okafor');
    await page.getByLabel('Given names').fill('Chidi');
    await page.getByLabel('Gender').selectOption('male');
    await page.getByLabel('Birth date').fill('1979-11-02');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/patients\/[^/]+$/);
    patientId = decodeURIComponent(pathOf(page).split('/')[2]!);

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Given names').fill('Chidi A');
    // Leaving with unsaved changes asks first; staying keeps what was typed.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
    const leave = page.getByRole('alertdialog', { name: 'Leave without saving?' });
    await leave.waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await leave.getByRole('button', { name: 'Stay and keep my changes' }).click();
    await leave.waitFor({ state: 'detached' });
    await expect(page.getByLabel('Given names').inputValue()).resolves.toBe('Chidi A');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${origin}/patients/${patientId}`);
    await page.getByRole('heading', { level: 1, name: /Okafor/ }).waitFor();

    await page.getByRole('link', { name: 'Vital signs' }).click();
    await page.getByRole('link', { name: 'Add vital signs' }).click();
    await page.getByLabel('Measurement').selectOption({ label: 'Blood pressure (mmHg)' });
    await page.getByLabel('Systolic (mmHg)').fill('131');
    await page.getByLabel('Diastolic (mmHg)').fill('86');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/r\/Observation\/(?!new)[^/?]+$/);
    observationId = decodeURIComponent(pathOf(page).split('/')[3]!);

    const stored = await ws.client().get<{ name?: Array<{ given?: string[] }>; meta?: { versionId?: string } }>(`Patient/${patientId}`);
    expect(stored.body.name?.[0]?.given).toEqual(['Chidi', 'A']);
    expect(stored.body.meta?.versionId).toMatch(/^2\./);
    await context.close();
  });

  it('the administrator filters the trail by that user: exactly those creates and that update', async () => {
    const { context, page } = await ui.newPage();
    await signIn(page, origin, ADMIN.username, ADMIN.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    const rows = page.getByRole('table', { name: 'Audit events' }).locator('tbody tr.data-table-row');

    await page.getByLabel('Who').selectOption('user');
    await page.getByLabel('User name').fill(WRITER.username);
    await page.getByLabel('Action').selectOption('C');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^Events 1–2( of 2)?, newest first\./).waitFor();
    const creates = await rows.allInnerTexts();
    expect(creates).toHaveLength(2);
    expect(creates[0]).toContain(`Observation/${observationId}`);
    expect(creates[1]).toContain(`Patient/${patientId}`);
    for (const t of creates) expect(t).toMatch(new RegExp(`${WRITER.username} via flint-ui[\\s\\S]*Success`));

    await page.getByLabel('Action').selectOption('U');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^Events 1–1( of 1)?, newest first\./).waitFor();
    const updates = await rows.allInnerTexts();
    expect(updates).toHaveLength(1);
    expect(updates[0]).toContain(`Patient/${patientId}`);
    expect(await a11yViolations(page)).toEqual([]);

    // No other record was written: every RESTful create or update in the trail is one of those.
    const api = ws.client();
    const all = await api.get<{ entry?: Array<{ resource: { action?: string } }> }>('AuditEvent?action=C,U&type=rest&_count=100');
    expect((all.body.entry ?? []).length).toBe(3);
    await context.close();
  });
});
