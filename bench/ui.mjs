/**
 * The UI's speed (issue 11), in Debian's Chromium against a real `flint serve`, each figure
 * beside a baseline measured in the same run: the same requests sent straight to the API
 * from Node (what the UI cannot beat).
 *
 *   scripts/with-keyring.sh node bench/ui.mjs [--count 100000] [--observations 1000] [--samples 20] [--quick] [--no-build] [--json FILE]
 *
 * Setup: a pouchdb-server database is seeded with --count resources (bench/seed.mjs: per 5,
 * a Patient with identifier MRN<g> and 4 vital-sign Observations); a fresh workstation syncs
 * it in (the fastest way to a large data dir), then gets one more patient with
 * --observations vital signs (heart rate, blood pressure panels, weight, BMI in turn),
 * written in transactions of 250. A writer signs in through the real sign-in page.
 *
 * 1. size     The UI's JavaScript, gzipped (level 9), every chunk in dist/renderer/assets.
 *             Target: < 1 MB.
 * 2. search   Patients screen, search as you type: a patient's identifier (MRN<g>, g random)
 *             typed one key every 60 ms; the time from the last keydown (a listener in the
 *             page) to the first frame whose result table shows exactly that identifier (a
 *             stale answer for the previous prefix shows another MRN, so it cannot count).
 *             Also by family name (the first frame whose rows all hold the name).
 *             Baseline: the UI's own requests from Node (an identifier-like term is searched as
 *             identifier and as name at once; 20 rows sorted by family and given name).
 *             Target: p50 and p95 <= 100 ms on the 100,000 resources.
 * 3. record   After a fresh page load and sign-in (nothing cached), a click on the result row
 *             of the patient with --observations vital signs:
 *             the time to the first frame where the record's header and every summary card
 *             are loaded ("opens and is usable"), then a click on the Vital signs tab to all
 *             charts drawn. Baseline: the same API reads from Node, in parallel as the UI
 *             sends them. Target: opens and usable < 500 ms.
 * --quick: 2,000 resources, 200 observations, 5 samples (verdicts marked as taken small).
 */
/* global window, document -- the functions given to page.evaluate and waitForFunction run in the page */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { seedRemote } from './seed.mjs';
import { REPO, build, environment, f0, f1, machineState, options, runFlintCli, startFlint, startPouchdbServer, summarize, table, verdict, writeJson } from './lib.mjs';

const opts = options({
  count: { type: 'string' },
  observations: { type: 'string' },
  samples: { type: 'string' },
  quick: { type: 'boolean' },
});
const quick = !!opts.quick;
const count = Number(opts.count ?? (quick ? 2000 : 100_000));
const observations = Number(opts.observations ?? (quick ? 200 : 1000));
const samples = Number(opts.samples ?? (quick ? 5 : 20));
const SYNC_USER = { username: 'ui-bench-sync', password: 'ui bench sync password 1' };
const UI_USER = { username: 'bench', password: 'bench password 123' };
const RECORD_ID = 'ui-bench-record';
const KEY_DELAY_MS = 60;
const CHROMIUM = process.env.FLINT_CHROMIUM ?? '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

build(opts);
console.log(`ui bench: ${environment()}; ${machineState()}; ${f0(count)} resources, ${f0(observations)} observations on one patient, ${samples} samples${quick ? ' (quick)' : ''}`);
const results = { count, observations, samples };

// ---------------------------------------------------------------------------------------
// 1. Size

const assets = join(REPO, 'dist/renderer/assets');
const chunks = readdirSync(assets)
  .filter((f) => f.endsWith('.js'))
  .map((f) => ({ file: f, raw: readFileSync(join(assets, f)).length, gz: gzipSync(readFileSync(join(assets, f)), { level: 9 }).length }));
const gzTotal = chunks.reduce((s, c) => s + c.gz, 0);
console.log('\n1. JavaScript size');
console.log(table(chunks.map((c) => [c.file, f0(c.raw), f0(c.gz)]), ['chunk', 'bytes', 'gzip bytes']));
console.log(`  total ${f0(gzTotal)} bytes gzipped = ${f1(gzTotal / 1024)} KiB, ${(gzTotal / 1_000_000).toFixed(2)}x the 1 MB budget: ${verdict(gzTotal < 1_000_000)}`);
results.size = { chunks, gzTotal };

// ---------------------------------------------------------------------------------------
// Setup: a large data dir through sync, one patient with many vital signs, a writer.

const couch = await startPouchdbServer();
let ws;
let browser;
try {
  const ok = (what, r) => {
    if (r.status < 200 || r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const cli = async (args, input) => {
    const r = await runFlintCli(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`flint ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  ok('sync user', await couch.request('PUT', `/_users/org.couchdb.user:${SYNC_USER.username}`, { _id: `org.couchdb.user:${SYNC_USER.username}`, name: SYNC_USER.username, password: SYNC_USER.password, roles: ['flint-workstation'], type: 'user' }));
  await cli(['sync', 'setup-remote', '--remote', couch.dbUrl('clinic'), '--username', couch.admin.username], `${couch.admin.password}\n`);
  let t0 = performance.now();
  await seedRemote((body) => couch.request('POST', '/clinic/_bulk_docs', body).then((r) => ok('seeding', r)), count, { category: true });
  console.log(`\nsetup: seeded ${f0(count)} resources in ${f1((performance.now() - t0) / 1000)} s`);

  ws = await startFlint();
  const api = async (method, path, body) => {
    const res = await fetch(`${ws.baseUrl.replace(/\/fhir$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${ws.token}`, accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  };
  t0 = performance.now();
  await cli(['sync', 'configure', '--data-dir', ws.dataDir, '--remote', couch.dbUrl('clinic'), '--username', SYNC_USER.username], `${SYNC_USER.password}\n`);
  const patients = Math.ceil(count / 5);
  for (;;) {
    const n = (await api('GET', '/fhir/Patient?_summary=count')).total;
    const o = (await api('GET', '/fhir/Observation?_summary=count')).total;
    if (n === patients && o === count - patients) break;
    if (performance.now() - t0 > 1_800_000) throw new Error(`sync incomplete after 30 min: ${n} patients, ${o} observations`);
    await sleep(1000);
  }
  console.log(`setup: synced into a fresh workstation in ${f1((performance.now() - t0) / 1000)} s`);
  await cli(['sync', 'pause', '--data-dir', ws.dataDir]);

  await api('PUT', `/fhir/Patient/${RECORD_ID}`, { resourceType: 'Patient', id: RECORD_ID, identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'REC900001' }], name: [{ family: 'Benchmark', given: ['Rosalind'] }], gender: 'female', birthDate: '1950-07-25' });
  const vital = (i) => {
    const when = new Date(Date.UTC(2020, 0, 1) + i * 36e5 * 7).toISOString();
    const base = { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${RECORD_ID}` }, effectiveDateTime: when, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] };
    const q = (value, unit) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
    const loinc = (code, display) => ({ coding: [{ system: 'http://loinc.org', code, display }], text: display });
    switch (i % 4) {
      case 0:
        return { ...base, code: loinc('8867-4', 'Heart rate'), valueQuantity: q(60 + (i % 30), '/min') };
      case 1:
        return { ...base, code: loinc('85354-6', 'Blood pressure panel'), component: [{ code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: q(110 + (i % 40), 'mm[Hg]') }, { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: q(70 + (i % 20), 'mm[Hg]') }] };
      case 2:
        return { ...base, code: loinc('29463-7', 'Body weight'), valueQuantity: q(60 + (i % 25) / 2, 'kg') };
      default:
        return { ...base, code: loinc('39156-5', 'Body mass index'), valueQuantity: q(20 + (i % 10) / 2, 'kg/m2') };
    }
  };
  for (let from = 0; from < observations; from += 250) {
    const entry = [];
    for (let i = from; i < Math.min(observations, from + 250); i++) entry.push({ resource: vital(i), request: { method: 'POST', url: 'Observation' } });
    await api('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry });
  }
  await cli(['user', 'add', UI_USER.username, '--role', 'writer', '--data-dir', ws.dataDir], `${UI_USER.password}\n`);
  const origin = ws.baseUrl.replace(/\/fhir$/, '');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(30_000);
  /** A fresh page load and sign-in: nothing cached in the UI. */
  async function signIn() {
    await page.goto(`${origin}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill(UI_USER.username);
    await page.getByLabel('Password').fill(UI_USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    // The time of the last keydown, as the page sees it.
    await page.evaluate(() => window.addEventListener('keydown', () => (window.__lastKey = performance.now()), { capture: true }));
  }
  await signIn();
  const search = page.getByLabel('Search patients');

  // -------------------------------------------------------------------------------------
  // 2. Search as you type

  /** Types `term` into a cleared search box; resolves with ms from the last keydown to `done` in the page. */
  async function typed(term, done) {
    await search.fill('');
    await page.waitForFunction(() => !document.getElementById('results-heading'));
    await search.pressSequentially(term, { delay: KEY_DELAY_MS });
    const at = await page.waitForFunction(done, term, { polling: 'raf' });
    return (await at.jsonValue()) - (await page.evaluate(() => window.__lastKey));
  }
  const byIdentifier = (term) => {
    const rows = [...document.querySelectorAll('table.patient-table tbody tr')];
    return rows.length === 1 && rows[0].cells[3]?.textContent?.trim() === term ? performance.now() : false;
  };
  const byName = (term) => {
    const rows = [...document.querySelectorAll('table.patient-table tbody tr')];
    return rows.length > 0 && rows.every((r) => r.cells[0]?.textContent?.includes(term)) ? performance.now() : false;
  };
  /** The requests sent together, as the UI sends them; ms until the last answer. */
  async function apiMs(paths) {
    const t = performance.now();
    await Promise.all(paths.map((p) => api('GET', p)));
    return performance.now() - t;
  }
  const UI_PAGE = '_count=20&_sort=family,given';
  const FAMILIES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson'];
  const rows = [];
  const searchFigures = {};
  for (const [kind, done, termOf, pathOf] of [
    // The baselines are the UI's own requests (renderer/patients/search-term.ts): a term with
    // digits is looked up as an identifier and as a name at once.
    ['identifier', byIdentifier, (i) => `MRN${(i * 7919 + 13) % patients}`, (t) => [`/fhir/Patient?identifier=${t}&${UI_PAGE}`, `/fhir/Patient?name=${t}&${UI_PAGE}`]],
    ['family name', byName, (i) => FAMILIES[i % FAMILIES.length], (t) => [`/fhir/Patient?name=${t}&${UI_PAGE}`]],
  ]) {
    await typed(termOf(samples), done); // warm-up, not counted
    const ui = [];
    const base = [];
    for (let i = 0; i < samples; i++) {
      ui.push(await typed(termOf(i), done));
      base.push(await apiMs(pathOf(termOf(i))));
    }
    const u = summarize(ui);
    const b = summarize(base);
    searchFigures[kind] = { ui: u, api: b };
    rows.push([kind, f1(u.p50), f1(u.p95), f1(b.p50), f1(b.p95), `${(u.p50 / b.p50).toFixed(2)}x`, verdict(u.p50 <= 100 && u.p95 <= 100)]);
  }
  console.log(`\n2. Patient search as you type (${samples} samples each, a key every ${KEY_DELAY_MS} ms)`);
  console.log(table(rows, ['search by', 'UI p50 ms', 'UI p95 ms', 'API p50 ms', 'API p95 ms', 'UI/API p50', 'target <= 100 ms']));
  results.search = searchFigures;
  const searchMet = Object.values(searchFigures).every((f) => f.ui.p50 <= 100 && f.ui.p95 <= 100);

  // -------------------------------------------------------------------------------------
  // 3. Opening a record with many observations

  const recordRows = [];
  const openUi = [];
  const vitalsUi = [];
  const openApi = [];
  const vitalsApi = [];
  const summaryPaths = [
    `/fhir/Patient/${RECORD_ID}`,
    `/fhir/AllergyIntolerance?patient=${RECORD_ID}`,
    `/fhir/Condition?patient=${RECORD_ID}&clinical-status=active`,
    `/fhir/MedicationRequest?patient=${RECORD_ID}&status=active`,
    `/fhir/Immunization?patient=${RECORD_ID}`,
    `/fhir/Encounter?patient=${RECORD_ID}&_sort=-date&_count=10`,
  ];
  for (let i = 0; i <= samples; i++) {
    // Cold: a new page load each time, so the UI has nothing of the record cached.
    await signIn();
    await typed('REC900001', byIdentifier);
    const clicked = await page.evaluate(() => {
      const link = document.querySelector('table.patient-table tbody a');
      const t = performance.now();
      link.click();
      return t;
    });
    const opened = await page.waitForFunction(
      () =>
        document.querySelector('article.patient-record h1') &&
        document.querySelectorAll('section.summary-card').length > 0 &&
        [...document.querySelectorAll('section.summary-card')].every((s) => s.getAttribute('aria-busy') !== 'true')
          ? performance.now()
          : false,
      undefined,
      { polling: 'raf' },
    );
    const tabClicked = await page.evaluate(() => {
      const tab = [...document.querySelectorAll('nav[aria-label="Patient record"] a')].find((a) => /vital/i.test(a.textContent ?? ''));
      const t = performance.now();
      tab.click();
      return t;
    });
    const charts = await page.waitForFunction(
      () => {
        const cards = document.querySelectorAll('figure.vital-card');
        return cards.length >= 4 && [...cards].every((c) => c.querySelector('canvas') || c.querySelector('.muted-text')) && document.querySelectorAll('figure.vital-card canvas').length >= 4 ? performance.now() : false;
      },
      undefined,
      { polling: 'raf' },
    );
    const t1 = performance.now();
    await Promise.all(summaryPaths.map((p) => api('GET', p)));
    const t2 = performance.now();
    await api('GET', `/fhir/Observation?patient=${RECORD_ID}&category=vital-signs&_sort=date&_count=1000`);
    const t3 = performance.now();
    if (i === 0) continue; // warm-up
    openUi.push((await opened.jsonValue()) - clicked);
    vitalsUi.push((await charts.jsonValue()) - tabClicked);
    openApi.push(t2 - t1);
    vitalsApi.push(t3 - t2);
  }
  const o = summarize(openUi);
  const oa = summarize(openApi);
  const v = summarize(vitalsUi);
  const va = summarize(vitalsApi);
  recordRows.push(['open, usable (header + summary cards)', f1(o.p50), f1(o.p95), f1(oa.p50), `${(o.p50 / oa.p50).toFixed(2)}x`, verdict(o.p95 < 500)]);
  recordRows.push([`vital signs tab (${f0(observations)} observations charted)`, f1(v.p50), f1(v.p95), f1(va.p50), `${(v.p50 / va.p50).toFixed(2)}x`, verdict(v.p95 < 500)]);
  console.log(`\n3. Opening a patient record with ${f0(observations)} vital signs (${samples} samples)`);
  console.log(table(recordRows, ['step', 'UI p50 ms', 'UI p95 ms', 'API p50 ms', 'UI/API p50', 'target < 500 ms']));
  results.record = { open: { ui: o, api: oa }, vitals: { ui: v, api: va } };
  await writeJson(opts.json, results);
  const met = gzTotal < 1_000_000 && searchMet && o.p95 < 500;
  console.log(`\nRESULT ui: ${verdict(met)}${quick ? ` (quick run: ${f0(count)} resources, not the 100,000 the search target assumes)` : ''}`);
} finally {
  await browser?.close().catch(() => undefined);
  await ws?.stop().catch(() => undefined);
  await couch.close();
}
