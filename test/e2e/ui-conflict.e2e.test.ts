/**
 * A sync conflict resolved in the UI, end to end: two real workstations syncing through a
 * real pouchdb-server (test/support/sync-pair.ts) both edit the same patient, and both
 * create the same new patient, while the server is down; once it is back, workstation A's
 * header shows the conflicts, the sync panel lists the edit and the possible duplicates,
 * the conflict page shows both versions side by side with the difference marked (and the
 * merge editor refuses what is not valid), and "Keep that one" resolves it; the duplicate
 * is reviewed as "Not a duplicate (keep both)". Workstation B then no longer lists either
 * and serves the kept content. Screenshot `conflict`; axe-core finds no WCAG 2.1 A/AA
 * violation on the sync panel, the conflict page or the duplicate review.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, flintApi, readWhen, startSyncPair, type SyncPair } from '../support/sync-pair';
import { a11yViolations, addUser, openBrowser, screenshot as saveScreenshot, signIn, type UiBrowser, expectCount } from '../support/ui';
import { UNTIL_DEFAULT_MS } from '../support/until';

const ADMIN = { username: 'ada', password: 'admin ada 42 lighthouses' };
const ID = 'c-ui';
const IDENTIFIER = { system: 'urn:oid:1.2.3.4', value: 'DUP-0042' };

interface ConflictList {
  conflicts: Array<{ type: string; id: string; kind: string; current: string; versions: string[]; duplicates?: string[] }>;
}

let pair: SyncPair;
let ui: UiBrowser;

const conflictsOf = async (ws: SyncPair['a']) => (await flintApi<ConflictList>(ws, 'GET', 'conflicts')).body.conflicts;

/** From the top: a full-page shot of a scrolled page would show the sticky header mid-page. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, name);
}

/** The conflicts table's row of one record (other rows may name it as a duplicate). */
const rowOf = (page: Page, reference: string) =>
  page.locator('table.conflicts-table tbody tr').filter({ has: page.locator('td:first-child small', { hasText: new RegExp(`^${reference}\\b`) }) });

async function noViolations(page: Page): Promise<void> {
  expect(await a11yViolations(page)).toEqual([]);
}

beforeAll(async () => {
  pair = await startSyncPair();
  await addUser(pair.a.dataDir, ADMIN.username, ADMIN.password, ['admin']);
  ui = await openBrowser();
});

afterAll(async () => {
  await ui?.close();
  await pair?.close();
});

describe('a conflict resolved in the UI', () => {
  it('shows the conflict on A, resolves it by keeping the other version, and B converges', async () => {
    const a = pair.a.client();
    const b = pair.b.client();
    const start = await a.put(`Patient/${ID}`, { resourceType: 'Patient', id: ID, name: [{ family: 'Start', given: ['Casey'] }], gender: 'female' });
    expect(start.status).toBe(201);
    await eventually(() => readWhen(b, `Patient/${ID}`, start.body.meta?.versionId), UNTIL_DEFAULT_MS, 'the patient on B');

    // Apart: both edit the same patient.
    await pair.couch.stop();
    const ea = await a.put(`Patient/${ID}`, { resourceType: 'Patient', id: ID, name: [{ family: 'FromA', given: ['Casey'] }], gender: 'female' });
    const eb = await b.put(`Patient/${ID}`, { resourceType: 'Patient', id: ID, name: [{ family: 'FromB', given: ['Casey'] }], gender: 'female', birthDate: '1980-02-03' });
    expect(ea.status).toBe(200);
    expect(eb.status).toBe(200);
    const twin = { resourceType: 'Patient', identifier: [IDENTIFIER], name: [{ family: 'Twin', given: ['Dana'] }], birthDate: '1990-05-06' };
    const dupA = await a.post<Patient>('Patient', twin);
    const dupB = await b.post<Patient>('Patient', { ...twin, telecom: [{ system: 'phone', value: '555-0100' }] });
    expect(dupA.status).toBe(201);
    expect(dupB.status).toBe(201);
    await pair.couch.restart();
    const listed = await eventually(async () => {
      const [ca, cb] = [await conflictsOf(pair.a), await conflictsOf(pair.b)];
      const on = (l: ConflictList['conflicts']) => (l.filter((c) => c.kind === 'duplicate').length === 2 ? l.find((c) => c.id === ID && c.versions.length === 2) : undefined);
      return on(ca) && on(cb) ? on(ca) : undefined;
    }, 60_000, 'the conflicts on A and B');
    expect(listed.kind).toBe('edit');
    const other = listed.versions.find((v) => v !== listed.current)!;
    const keptFamily = other === ea.body.meta?.versionId ? 'FromA' : 'FromB';
    const currentFamily = keptFamily === 'FromA' ? 'FromB' : 'FromA';

    const { context, page } = await ui.newPage();
    try {
      const origin = new URL(pair.a.baseUrl).origin;
      await signIn(page, origin, ADMIN.username, ADMIN.password, '/sync');
      // The header shows the count on every screen.
      const counted = await eventually(async () => {
        const n = (await flintApi<{ conflicts: number }>(pair.a, 'GET', 'sync')).body.conflicts;
        return n > 0 ? n : undefined;
      });
      const badge = page.getByRole('banner').getByRole('link', { name: new RegExp(`\\b${counted} conflicts?\\b`) });
      await badge.waitFor();
      // The count is what the list holds: the edit and each possible duplicate patient.
      const entries = (await flintApi<{ conflicts: unknown[] }>(pair.a, 'GET', 'conflicts')).body.conflicts;
      expect(counted).toBe(entries.length);
      expect(counted).toBeGreaterThanOrEqual(3);

      // The sync panel lists the edit and, as such, the possible duplicates with links to both records.
      await page.getByRole('heading', { name: 'Sync', level: 1 }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(`Patient/${ID}`) });
      await row.waitFor();
      await expectCount(row.getByText('Edited on two workstations'), 1);
      await expectCount(row.getByText('2 versions'), 1);
      const dupRow = rowOf(page, `Patient/${dupA.body.id}`);
      await expect(dupRow.innerText()).resolves.toMatch(new RegExp(`Possible duplicate patient: same identifier ${IDENTIFIER.value}[\\s\\S]*as[\\s\\S]*Twin, Dana \\(Patient/${dupB.body.id}\\)`));
      await expectCount(dupRow.locator(`td:nth-child(2) a[href="/patients/${dupB.body.id}"]`), 1);
      await expect(dupRow.getByRole('link', { name: 'Open this record' }).getAttribute('href')).resolves.toBe(`/patients/${dupA.body.id}`);
      await screenshot(page, 'sync-panel-conflict');
      await noViolations(page);

      // The conflict page: both versions side by side, the difference marked.
      await row.getByRole('link', { name: /^Review / }).click();
      await page.waitForURL(new RegExp(`/sync/conflicts/Patient/${ID}$`));
      await page.getByRole('heading', { name: `Conflict: Patient/${ID}` }).waitFor();
      const table = page.locator('table.conflict-diff');
      await table.getByRole('columnheader', { name: /^Current version/ }).waitFor();
      await table.getByRole('columnheader', { name: /^Other version/ }).waitFor();
      const family = table.getByRole('row', { name: /name 1 › family/ });
      await expect(family.locator('td').allInnerTexts()).resolves.toEqual([currentFamily, keptFamily]);
      await expectCount(family.locator('td.diff-del'), 1);
      await expectCount(family.locator('td.diff-add'), 1);
      // B's edit added a birth date: present on one side only.
      const birth = table.getByRole('row', { name: /birthDate/ });
      await expect(birth.locator('td').allInnerTexts()).resolves.toEqual(keptFamily === 'FromB' ? ['(none)', '1980-02-03'] : ['1980-02-03', '(none)']);
      // Unchanged fields are hidden until asked for.
      await expect(table.getByRole('row', { name: /gender/ }).count()).resolves.toBe(0);
      await page.getByLabel('Show only the fields that differ').uncheck();
      await table.getByRole('row', { name: /gender/ }).waitFor();
      await page.getByLabel('Show only the fields that differ').check();
      await screenshot(page, 'conflict');
      await noViolations(page);

      // The merge editor starts from the current version and refuses what is not valid, saying why.
      await page.getByRole('button', { name: 'Merge…' }).click();
      const editor = page.getByLabel('The merged Patient as JSON');
      expect(JSON.parse(await editor.inputValue())).toMatchObject({ resourceType: 'Patient', id: ID, name: [{ family: currentFamily }] });
      await editor.fill('{"resourceType": "Patient",');
      await page.getByRole('button', { name: 'Check' }).click();
      await page.getByText(/^This is not valid JSON: /).waitFor();
      await editor.fill(JSON.stringify({ resourceType: 'Patient', id: ID, name: [{ family: 'Merged' }], birthDate: 'last spring' }));
      await page.getByRole('button', { name: 'Save merged version' }).click();
      await page.getByText('The record is not valid yet:').waitFor();
      await page.getByText('Invalid date format').waitFor();
      await page.getByText('(at Patient.birthDate)').waitFor();
      await expect(editor.getAttribute('aria-invalid')).resolves.toBe('true');
      await noViolations(page);
      expect((await conflictsOf(pair.a)).some((c) => c.id === ID)).toBe(true);

      // Keep the other one: back to the sync panel with a confirmation, the conflict gone here.
      await page.getByRole('button', { name: 'Keep that one' }).click();
      await page.waitForURL(/\/sync$/);
      await page.getByRole('status').filter({ hasText: `Patient/${ID}: kept version` }).waitFor();
      await page.getByRole('row', { name: new RegExp(`Patient/${ID}`) }).waitFor({ state: 'detached' });

      // The possible duplicate: both patients side by side; they are two people.
      await rowOf(page, `Patient/${dupA.body.id}`).getByRole('link', { name: /^Review / }).click();
      await page.getByRole('heading', { name: `Possible duplicate patient: Patient/${dupA.body.id}` }).waitFor();
      const dupTable = page.locator('table.conflict-diff');
      await dupTable.getByRole('columnheader', { name: /^This record/ }).waitFor();
      await expect(dupTable.getByRole('row', { name: /telecom 1 › value/ }).locator('td').allInnerTexts()).resolves.toEqual(['(none)', '555-0100']);
      await screenshot(page, 'conflict-duplicate');
      await noViolations(page);
      await page.getByRole('button', { name: 'Not a duplicate (keep both)' }).click();
      await page.waitForURL(/\/sync$/);
      await page.getByRole('status').filter({ hasText: 'marked as not a duplicate' }).waitFor();
      await page.getByText('No conflicts', { exact: false }).waitFor();
      await badge.waitFor({ state: 'detached' });
    } finally {
      await context.close();
    }

    // A serves the kept content as a new version; B converges on it and lists no conflict.
    const resolved = (await a.get<Patient>(`Patient/${ID}`)).body;
    expect(resolved.name?.[0]?.family).toBe(keptFamily);
    expect(resolved.meta?.versionId).not.toBe(other);
    await eventually(async () => ((await conflictsOf(pair.b)).length === 0 ? true : undefined), 60_000, 'no conflict left on B');
    const onB = (await eventually(() => readWhen(b, `Patient/${ID}`, resolved.meta?.versionId), UNTIL_DEFAULT_MS, 'the resolution on B')) as Patient;
    expect(onB.name?.[0]?.family).toBe(keptFamily);
    expect(onB.meta?.tag ?? []).not.toEqual(expect.arrayContaining([expect.objectContaining({ code: 'conflict' })]));
  });
});
