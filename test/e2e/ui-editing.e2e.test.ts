/**
 * Editing, history and search in a real browser against a real workstation. A writer
 * signs in through Flint's sign-in page, creates a patient through the form (gender
 * picked from the administrative-gender value set the UI reads from the core), sees the
 * server's validation error next to the field it concerns, edits the patient, records a
 * blood pressure and a weight, compares versions in the history, and meets a stale edit
 * (someone else saves while the form is open) resolved with "Use mine". Then searches
 * Observations by code and date, sorts, pages and opens a result. Each screen is
 * screenshotted (test-results/ui/) and checked with axe-core for WCAG 2.1 A/AA.
 */
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, openBrowser, screenshot, signIn, type UiBrowser, expectCount, expectAccessible as expectAccessibleAt, seedResources } from '../support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

const USER = 'walt';
const PASSWORD = 'writer walt 77 kites';
const LOINC = 'http://loinc.org';
const SAM = 'sam-search';

let ws: RunningWorkstation;
let ui: UiBrowser;
let context: BrowserContext;
let page: Page;
let origin: string;
/** The patient created through the form. */
let patientId: string;

const day = (y: number, i: number) => new Date(Date.UTC(y, 0, 1 + i, 9)).toISOString().replace('.000Z', 'Z');
const heartRate = (when: string, bpm: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: `Patient/${SAM}` },
  effectiveDateTime: when,
  valueQuantity: { value: bpm, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

/** 30 heart rates in 2024, 10 in 2023, 5 weights in 2024: "heart rate since 2024" is 30, two pages of 20. */
const seed: Resource[] = [
  { resourceType: 'Patient', id: SAM, name: [{ family: 'Search', given: ['Sam'] }], gender: 'male', birthDate: '1970-01-01' },
  ...Array.from({ length: 30 }, (_, i) => heartRate(day(2024, i * 3), 60 + i)),
  ...Array.from({ length: 10 }, (_, i) => heartRate(day(2023, i * 7), 90 + i)),
  ...Array.from({ length: 5 }, (_, i): Observation => ({ ...heartRate(day(2024, i), 70), code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] }, valueQuantity: { value: 80 + i, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } })),
];

const post = (resources: Resource[]) => seedResources(ws.client(), resources);
const expectAccessible = (where: string) => expectAccessibleAt(page, where);

/**
 * Goes to a screen the way the UI's own links do (a history entry, no page load): the
 * session's tokens live in the page's memory only, so loading a page signs out.
 */
async function go(path: string): Promise<void> {
  await page.evaluate((p) => {
    const idx = ((window.history.state as { idx?: number } | null)?.idx ?? 0) + 1;
    window.history.pushState({ usr: null, key: `e2e${idx}`, idx }, '', p);
    window.dispatchEvent(new PopStateEvent('popstate', { state: window.history.state }));
  }, path);
  await page.waitForURL(`${origin}${path}`);
}

const idFromUrl = (re: RegExp) => {
  const m = re.exec(new URL(page.url()).pathname);
  expect(m, page.url()).not.toBeNull();
  return decodeURIComponent(m![1]!);
};

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  await post(seed);
  await addUser(ws.dataDir, USER, PASSWORD, ['writer']);
  ui = await openBrowser();
  ({ context, page } = await ui.newPage());
  await signIn(page, origin, USER, PASSWORD);
});

afterAll(async () => {
  await context?.close();
  await ui?.close();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

describe('editing', () => {
  it('creates a patient through the form, with the server’s validation error shown next to its field', async () => {
    await go(`/r/Patient/new`);
    await page.getByRole('heading', { level: 1, name: 'New Patient' }).waitFor();
    await page.getByLabel('Family name').fill('Quill');
    await page.getByLabel('Given names').fill('Quentin Q');
    // The options come from the administrative-gender value set, read at run time.
    const gender = page.getByLabel('Gender');
    await gender.selectOption('female');
    expect(await gender.locator('option').allTextContents()).toEqual(['(not set)', 'Male (male)', 'Female (female)', 'Other (other)', 'Unknown (unknown)']);
    // A five-digit year: the browser's date input takes it, FHIR's date type does not.
    const birth = page.getByLabel('Birth date');
    await birth.fill('12024-03-01');
    await page.getByLabel('Phone').fill('+44 20 7946 0001');
    await screenshot(page, 'patient-form');
    await expectAccessible('patient form');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'One problem is marked next to its field below.' }).waitFor();
    await expect(birth.getAttribute('aria-invalid')).resolves.toBe('true');
    const describedBy = (await birth.getAttribute('aria-describedby'))!.split(' ')[0]!;
    await expect(page.locator(`[id="${describedBy}"]`).textContent()).resolves.toMatch(/date/i);
    // Nothing typed was lost, and the focus is on the field to fix.
    await expect(page.getByLabel('Family name').inputValue()).resolves.toBe('Quill');
    await expect(gender.inputValue()).resolves.toBe('female');
    await expect(birth.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await screenshot(page, 'validation-error');
    await expectAccessible('validation error');

    await birth.fill('1984-03-07');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/patients\/[^/]+$/);
    patientId = idFromUrl(/^\/patients\/([^/]+)$/);
    const stored = (await ws.client().get<Patient>(`Patient/${patientId}`)).body;
    expect(stored).toMatchObject({ name: [{ use: 'official', family: 'Quill', given: ['Quentin', 'Q'] }], gender: 'female', birthDate: '1984-03-07', telecom: [{ system: 'phone', value: '+44 20 7946 0001' }] });
  });

  it('edits the patient with If-Match, keeping what the form does not show', async () => {
    // Something the form has no field for, added behind its back: it must survive the edit.
    const client = ws.client();
    const before = await client.get<Patient>(`Patient/${patientId}`);
    const withExtra = { ...before.body, maritalStatus: { text: 'Married' } };
    expect((await client.put(`Patient/${patientId}`, withExtra, { 'if-match': before.headers.get('etag')! })).status).toBe(200);

    await go(`/r/Patient/${patientId}/edit`);
    const phone = page.getByLabel('Phone');
    await expect(phone.inputValue()).resolves.toBe('+44 20 7946 0001');
    await phone.fill('+44 20 7946 0002');
    await page.getByLabel('Email').fill('quentin@example.org');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${origin}/patients/${patientId}`);
    const after = (await client.get<Patient>(`Patient/${patientId}`)).body;
    expect(after.telecom).toEqual([{ system: 'phone', value: '+44 20 7946 0002' }, { system: 'email', value: 'quentin@example.org' }]);
    expect(after.maritalStatus).toEqual({ text: 'Married' });
    expect(after.meta?.versionId).toMatch(/^3\./);
  });

  it('adds vital signs: a blood pressure panel and a weight, with UCUM units', async () => {
    await go(`/r/Observation/new?patient=${patientId}`);
    await page.getByRole('heading', { level: 1, name: 'New Observation' }).waitFor();
    await expect(page.getByLabel('Patient').inputValue()).resolves.toBe(`Patient/${patientId}`);
    await page.getByText('Quill, Quentin Q, born 1984-03-07').waitFor();
    await page.getByLabel('Measurement').selectOption({ label: 'Blood pressure (mmHg)' });
    await page.getByLabel('Systolic (mmHg)').fill('128');
    await page.getByLabel('Diastolic (mmHg)').fill('84');
    await expectAccessible('observation form');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/r\/Observation\/(?!new)[^/?]+$/);
    const bpId = idFromUrl(/^\/r\/Observation\/([^/]+)$/);
    await page.getByRole('heading', { level: 1, name: /^Observation: / }).waitFor();
    await expect(page.locator('main').textContent()).resolves.toContain('128 mmHg');
    expect(await page.getByRole('link', { name: 'Back to the patient' }).getAttribute('href')).toBe(`/patients/${patientId}`);
    await screenshot(page, 'observation-view');
    await expectAccessible('observation view');
    const bp = (await ws.client().get<Observation>(`Observation/${bpId}`)).body;
    expect(bp).toMatchObject({
      status: 'final',
      category: [{ coding: [{ code: 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code: '85354-6' }] },
      subject: { reference: `Patient/${patientId}` },
      component: [
        { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 128, code: 'mm[Hg]', system: 'http://unitsofmeasure.org' } },
        { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 84, code: 'mm[Hg]' } },
      ],
    });
    expect(bp.effectiveDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);

    await go(`/r/Observation/new?patient=${patientId}`);
    await page.getByLabel('Measurement').selectOption({ label: 'Body weight (kg)' });
    await page.getByLabel('Body weight (kg)').fill('72.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/r\/Observation\/(?!new)[^/?]+$/);
    await page.getByRole('heading', { level: 1, name: 'Observation: Body weight' }).waitFor();
    await expect(page.locator('main').textContent()).resolves.toContain('72.5 kg');
    const weight = (await ws.client().get<Observation>(`Observation/${idFromUrl(/^\/r\/Observation\/([^/]+)$/)}`)).body;
    expect(weight).toMatchObject({ code: { coding: [{ code: '29463-7' }] }, valueQuantity: { value: 72.5, unit: 'kg', code: 'kg' } });
  });

  it('records an encounter, a condition, an allergy, a prescription and an immunization through their forms', async () => {
    const saveAndRead = async <T extends Resource>(type: string): Promise<T> => {
      await expectAccessible(`${type} form`);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(new RegExp(`/r/${type}/(?!new)[^/?]+$`));
      const id = idFromUrl(new RegExp(`^/r/${type}/([^/]+)$`));
      return (await ws.client().get<T>(`${type}/${id}`)).body;
    };
    const concept = (name: RegExp) => page.getByRole('group', { name }).getByLabel('Description');
    const subject = { reference: `Patient/${patientId}` };

    await go(`/r/Encounter/new?patient=${patientId}`);
    // Encounter.class: the v3 ActEncounterCode value set, expanded by the core.
    await page.getByLabel('Class').selectOption({ label: 'ambulatory (AMB)' });
    await concept(/^Reason/).fill('Cough');
    expect(await saveAndRead('Encounter')).toMatchObject({ status: 'in-progress', class: { code: 'AMB', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode' }, reasonCode: [{ text: 'Cough' }], subject });

    await go(`/r/Condition/new?patient=${patientId}`);
    await concept(/^Condition/).fill('Asthma');
    await page.getByLabel('Category').selectOption({ label: 'Problem List Item (problem-list-item)' });
    expect(await saveAndRead('Condition')).toMatchObject({ clinicalStatus: { coding: [{ code: 'active' }] }, verificationStatus: { coding: [{ code: 'confirmed' }] }, category: [{ coding: [{ code: 'problem-list-item' }] }], code: { text: 'Asthma' }, subject });

    await go(`/r/AllergyIntolerance/new?patient=${patientId}`);
    await concept(/^Substance/).fill('Peanut');
    await page.getByLabel('Criticality').selectOption('high');
    await concept(/^Manifestation/).fill('Hives');
    expect(await saveAndRead('AllergyIntolerance')).toMatchObject({ type: 'allergy', criticality: 'high', code: { text: 'Peanut' }, reaction: [{ manifestation: [{ text: 'Hives' }] }], patient: subject });

    await go(`/r/MedicationRequest/new?patient=${patientId}`);
    await concept(/^Medication/).fill('Amoxicillin 500 mg capsules');
    await page.getByLabel('Dosage instructions').fill('1 capsule 3 times a day for 7 days');
    expect(await saveAndRead('MedicationRequest')).toMatchObject({ status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Amoxicillin 500 mg capsules' }, dosageInstruction: [{ text: '1 capsule 3 times a day for 7 days' }], subject });

    await go(`/r/Immunization/new?patient=${patientId}`);
    await concept(/^Vaccine/).fill('MMR');
    await page.getByLabel('Lot number').fill('LOT-42');
    expect(await saveAndRead('Immunization')).toMatchObject({ status: 'completed', vaccineCode: { text: 'MMR' }, lotNumber: 'LOT-42', primarySource: true, patient: subject });
  });

  it('edits any other type with the generic editor built from its StructureDefinition, and its JSON checked by $validate', async () => {
    await go(`/r/Procedure/new?patient=${patientId}`);
    await page.getByRole('heading', { level: 1, name: 'New Procedure' }).waitFor();
    const status = page.getByLabel('Status', { exact: true });
    await status.selectOption('completed');
    const subject = page.getByRole('group', { name: /^Subject/ });
    await expect(subject.getByLabel('Reference (Type/id)').inputValue()).resolves.toBe(`Patient/${patientId}`);
    await page.getByLabel('Add an element').selectOption({ label: 'Code — Identification of the procedure' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('group', { name: /^Code/ }).getByLabel('Description').fill('Wound dressing');
    await screenshot(page, 'generic-editor');
    await expectAccessible('generic editor');

    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const json = JSON.parse(await page.getByLabel('Resource JSON').inputValue()) as Record<string, unknown>;
    expect(json).toEqual({ resourceType: 'Procedure', status: 'completed', code: { text: 'Wound dressing' }, subject: { reference: `Patient/${patientId}` } });
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByRole('status').filter({ hasText: 'No problems found.' }).waitFor();
    await expectAccessible('JSON view');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/r\/Procedure\/(?!new)[^/?]+$/);
    await page.getByRole('heading', { level: 1, name: 'Procedure: Wound dressing' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await screenshot(page, 'resource-view');
    await expectAccessible('resource view');
  });

  it('shows the history and a readable diff between versions', async () => {
    await go(`/r/Patient/${patientId}/history`);
    await page.getByRole('heading', { level: 1, name: /^History of Patient: Quill, Quentin Q/ }).waitFor();
    const versions = page.getByRole('table', { name: 'Versions' });
    await expectCount(versions.locator('tbody tr'), 3);
    // Default: the last two versions, per path, old -> new.
    const diff = page.getByRole('table', { name: /^Differences from version 2\.\S+ to version 3\./ });
    const rows = await diff.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent?.trim()).join(' | ')));
    expect(rows).toEqual(['telecom[0].value | Changed | +44 20 7946 0001 | +44 20 7946 0002', 'telecom[1].system | Added | — | email', 'telecom[1].value | Added | — | quentin@example.org']);
    await screenshot(page, 'history-diff');
    await expectAccessible('history');

    // Any two versions: the first against the latest.
    const first = await page.getByLabel('From (older)').locator('option').last().getAttribute('value');
    await page.getByLabel('From (older)').selectOption(first!);
    await page.getByRole('table', { name: /^Differences from version 1\./ }).getByText('maritalStatus.text').waitFor();
  });

  it('on a stale edit says so plainly, shows both versions, and saves over theirs with “Use mine”', async () => {
    await go(`/r/Patient/${patientId}/edit`);
    const family = page.getByLabel('Family name');
    await expect(family.inputValue()).resolves.toBe('Quill');
    await family.fill('Quillon');

    // Someone else saves meanwhile.
    const client = ws.client();
    const current = await client.get<Patient>(`Patient/${patientId}`);
    const theirs = { ...current.body, gender: 'other' as const, birthDate: '1984-03-08' };
    expect((await client.put(`Patient/${patientId}`, theirs, { 'if-match': current.headers.get('etag')! })).status).toBe(200);

    await page.getByRole('button', { name: 'Save' }).click();
    const panel = page.locator('section.conflict');
    await panel.getByRole('heading', { level: 2, name: 'Someone else changed this record while you were editing it' }).waitFor();
    await panel.getByRole('heading', { name: /^Theirs: the saved version 4\./ }).waitFor();
    await panel.getByRole('heading', { name: 'Yours: this form, not saved' }).waitFor();
    const diff = await panel.getByRole('table', { name: 'Differences between their version and yours' }).textContent();
    expect(diff).toContain('name[0].family');
    expect(diff).toContain('Quillon');
    expect(diff).toContain('gender');
    await screenshot(page, 'stale-edit');
    await expectAccessible('stale edit');

    await panel.getByRole('button', { name: 'Use mine (save over theirs)' }).click();
    await page.waitForURL(`${origin}/patients/${patientId}`);
    const saved = (await client.get<Patient>(`Patient/${patientId}`)).body;
    expect(saved.name?.[0]?.family).toBe('Quillon');
    expect(saved.gender).toBe('female');
    expect(saved.meta?.versionId).toMatch(/^5\./);
  });
});

describe('search', () => {
  const rowTexts = () => page.locator('table.data-table tbody tr[data-index]').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()).join(' | ')));

  it('finds Observations by a token and a date with a prefix, sorts, pages, and opens a result', async () => {
    await go(`/search`);
    await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
    await page.getByLabel('Resource type').selectOption('Observation');
    await page.waitForURL(`${origin}/search/Observation`);
    await page.getByLabel('Parameter 1').selectOption('code');
    await page.getByLabel('Value 1').fill('http://loinc.org|8867-4');
    await page.getByRole('button', { name: 'Add a criterion' }).click();
    await page.getByLabel('Parameter 2').selectOption('date');
    await page.getByLabel('Comparison 2').selectOption('ge');
    await page.getByLabel('Value 2').fill('2024');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(`${origin}/search/Observation?code=http://loinc.org|8867-4&date=ge2024`);
    await page.getByRole('status').filter({ hasText: /^30 matches/ }).waitFor();

    await page.getByLabel('Per page').selectOption('20');
    await page.waitForURL(/_count=20/);
    await page.getByRole('status').filter({ hasText: '30 matches; showing 20 on this page.' }).waitFor();

    // Sort by date: ascending, then descending (the header's button).
    const dateHeader = page.getByRole('columnheader', { name: /Date/ });
    await dateHeader.getByRole('button').click();
    await page.waitForURL(/_sort=date(&|$)/);
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Date' }).waitFor();
    await page.waitForFunction(() => document.querySelector('table.data-table tbody tr[data-index="0"] td:nth-child(4)')?.textContent?.includes('1 Jan 2024'));
    await dateHeader.getByRole('button').click();
    await page.waitForURL(/_sort=-date/);
    await page.locator('th[aria-sort="descending"]', { hasText: 'Date' }).waitFor();
    await page.waitForFunction(() => document.querySelector('table.data-table tbody tr[data-index="0"] td:nth-child(3)')?.textContent === '89 /min');
    // The table renders the rows in view (and a few more), not all twenty.
    const firstPage = await rowTexts();
    expect(firstPage.length).toBeGreaterThan(10);
    expect(firstPage[0]).toMatch(/Heart rate \| 89 \/min/);
    await screenshot(page, 'search');
    await expectAccessible('search');

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('status').filter({ hasText: '30 matches; showing 10 on this page.' }).waitFor();
    const secondPage = await rowTexts();
    expect(secondPage[0]).toMatch(/69 \/min/);
    expect(secondPage.some((r) => firstPage.includes(r))).toBe(false);
    // Back goes to the first page again.
    await page.goBack();
    await page.getByRole('status').filter({ hasText: '30 matches; showing 20 on this page.' }).waitFor();

    // Open a result by keyboard.
    const firstRow = page.locator('table.data-table tbody tr[data-index="0"]');
    await firstRow.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/r\/Observation\/(?!new)[^/?]+$/);
    await page.getByRole('heading', { level: 1, name: 'Observation: Heart rate' }).waitFor();
    await expect(page.locator('main').textContent()).resolves.toContain('88 /min');
  });

  it('runs an expert’s raw query', async () => {
    await go(`/search/Observation`);
    await page.getByText('Query for experts').click();
    await page.getByLabel('FHIR query').fill('Observation?code=http://loinc.org|29463-7&_sort=-date');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.waitForURL(`${origin}/search/Observation?code=http://loinc.org|29463-7&_sort=-date`);
    await page.getByRole('status').filter({ hasText: /^6 matches/ }).waitFor();
    await expect(page.getByLabel('Parameter 1').inputValue()).resolves.toBe('code');
    await expect(page.getByLabel('Value 1').inputValue()).resolves.toBe('http://loinc.org|29463-7');
    await expectAccessible('search, raw query');
  });
});
