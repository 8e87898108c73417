/**
 * Search: with >= --resources (default 100,000) Synthea resources in a real `flint serve`,
 * the latency of selective token searches, `_summary=count`, a one-level chained search,
 * `_has` and `Patient/<id>/$everything`, each against reading the same resources by id in
 * the same run; then the index build throughput (`flint reindex`) and the index's on-disk
 * size relative to the store's.
 *
 *   scripts/with-keyring.sh node bench/search.mjs [--resources 100000] [--reps 30] [--warmup 3]
 *       [--max-seconds 60] [--max-load-seconds 1800] [--data-dir DIR [--keep]] [--no-reindex]
 *       [--quick] [--strict] [--no-build] [--cpu-prof DIR] [--json FILE] [--only KEY,...]
 *
 * Load. The smart-2019 bundles ($FLINT_CORPUS/synthea/smart-2019) are POSTed as transactions,
 * one at a time, over and over, until the store holds >= --resources resources. Their entries
 * are POSTs with urn:uuid fullUrls, so every copy gets fresh ids. The first copy of each bundle
 * in a fresh data dir is sent as it is; later copies get a suffix on every Patient.identifier
 * value, so that an identifier still names one patient. smart-2019's largest patient has 496
 * resources in its compartment; for `$everything` of a patient with ~1,000 the bench first
 * loads one synthetic patient: the largest bundle twice in one transaction, the second copy
 * with fresh urn:uuids, without its Patient, pointing at the first copy's Patient (whose
 * identifiers get the suffix -x2). Nothing of the corpus is written anywhere but the server.
 *
 * Reuse. `--data-dir DIR` loads into DIR (created if missing) and skips loading when DIR
 * already holds enough; `--keep` keeps a DIR the bench created (a DIR that existed before is
 * never deleted). The data dir's master key lives in the keychain, and scripts/with-keyring.sh
 * creates a new keychain for each command it runs, so a kept DIR reopens only within one
 * keyring session:
 *   scripts/with-keyring.sh sh -c 'node bench/search.mjs --data-dir /tmp/flint-search --keep &&
 *                                  node bench/search.mjs --data-dir /tmp/flint-search --keep --no-build'
 * In a later session the server refuses DIR (no master key): delete it and load again.
 *
 * Queries, each measured --reps times (after --warmup unmeasured repetitions, at most
 * --max-seconds per query) over one keep-alive connection, as p50/p95 of the time from
 * sending the request to the last byte of the reply. The codes and patients are picked from
 * the loaded data: the patient of the first bundle (by file name), the synthetic patient, the
 * most frequent Observation code, and a LOINC code whose count on the server is a few dozen.
 *   identifier       Patient?identifier=<MRN system>|<value>          first page, 1 match
 *   code             Observation?code=http://loinc.org|<few dozen>    first page
 *   count-code       Observation?code=<most frequent>&_summary=count
 *   count-all        Observation?_summary=count
 *   chain            Observation?subject.identifier=<MRN system>|<value>  first page
 *   has              Patient?_has:Observation:patient:code=<few dozen code>  first page
 *   everything       Patient/<synthetic>/$everything, every page (next links)
 *   everything-p1    its first page (informative)
 *   everything-c1000 the same walk with _count=1000 (informative: per-page vs per-resource cost)
 * Baseline, per query and repetition, right after it: GET [type]/[id] of each resource the
 * query returned, one after the other over the same connection. A count returns no resources:
 * its baseline is one read (one round trip). The ratio is the median of the per-repetition
 * ratios query ms / baseline ms.
 * A query answered with an error status or an OperationOutcome, or whose Bundle holds an
 * entry with search.mode = 'outcome' (parameters ignored), is "not supported by this build";
 * one whose matches are plainly wrong (checked against simpler searches) is "wrong result".
 * Neither is timed, and both count as a missed target.
 *
 * Index. After the queries the server is stopped, `flint reindex --data-dir DIR` is run and
 * timed (resources/s), and the sizes of index.db(+wal) and store.db(+wal) are printed, as the
 * server left them and after the rebuild.
 *
 * Targets (for >= 100,000 resources): identifier and code first page p50 <= 3 ms,
 * `_summary=count` <= 10 ms, chain and `_has` <= 20 ms, `$everything` (all pages) <= 50 ms.
 * --quick: 5,000 resources, 10 repetitions (a smoke run; the targets assume 100,000).
 * --strict: exit 1 if a target is missed.
 * --only identifier,code,...: run only these queries (the keys above), e.g. to profile one of them;
 * the verdict then covers those alone.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CORPUS,
  REPO,
  build,
  environment,
  f0,
  f1,
  f2,
  keepAliveAgent,
  machineState,
  median,
  options,
  request,
  startFlint,
  summarize,
  table,
  tempDir,
  verdict,
  writeJson,
} from './lib.mjs';

const opts = options({
  resources: { type: 'string' },
  reps: { type: 'string' },
  warmup: { type: 'string' },
  'max-seconds': { type: 'string' },
  'max-load-seconds': { type: 'string' },
  'max-reindex-seconds': { type: 'string' },
  'data-dir': { type: 'string' },
  keep: { type: 'boolean' },
  'no-reindex': { type: 'boolean' },
  quick: { type: 'boolean' },
  strict: { type: 'boolean' },
  only: { type: 'string' },
});
const quick = opts.quick === true;
const wanted = Number(opts.resources ?? (quick ? 5000 : 100_000));
const reps = Number(opts.reps ?? (quick ? 10 : 30));
const warmupReps = Number(opts.warmup ?? 3);
const maxSeconds = Number(opts['max-seconds'] ?? (quick ? 20 : 60)); // per query
const maxLoadSeconds = Number(opts['max-load-seconds'] ?? 1800);
const maxReindexSeconds = Number(opts['max-reindex-seconds'] ?? 1200);
const only = opts.only ? new Set(opts.only.split(',').map((k) => k.trim())) : undefined; // query keys to run
const FULL_SIZE = 100_000; // what the targets assume
/** Issue 12: `flint reindex` of 100,000 resources at >= 3,000 resources/s. */
const REINDEX_TARGET = 3000;
const TARGETS = { identifier: 3, code: 3, 'count-code': 10, 'count-all': 10, chain: 20, has: 20, everything: 50 };
const MRN = 'http://hospital.smarthealthit.org';
const LOINC = 'http://loinc.org';
const FEW_DOZEN = 36;
const JSON_HEADERS = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' };
const ACCEPT = { accept: 'application/fhir+json' };

const corpusDir = join(CORPUS, 'synthea/smart-2019');
if (!existsSync(corpusDir)) {
  console.error(`search: corpus not found at ${corpusDir} (set FLINT_CORPUS): skipped`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
build(opts);

// --- The corpus, parsed once (kept in memory only).
const bundles = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const json = JSON.parse(readFileSync(join(corpusDir, file), 'utf8'));
    const patientEntry = json.entry.find((e) => e.resource?.resourceType === 'Patient');
    return { file, json, patientEntry, patient: patientEntry.resource, resources: json.entry.length };
  });
const corpusTypes = [...new Set(bundles.flatMap((b) => b.json.entry.map((e) => e.resource.resourceType)))].sort();
const corpusCodes = new Map(); // LOINC code -> Observations carrying it, over the whole corpus
let corpusObservations = 0;
for (const b of bundles) {
  for (const { resource: r } of b.json.entry) {
    if (r.resourceType !== 'Observation') continue;
    corpusObservations++;
    for (const c of new Set((r.code?.coding ?? []).filter((c) => c.system === LOINC).map((c) => c.code))) {
      corpusCodes.set(c, (corpusCodes.get(c) ?? 0) + 1);
    }
  }
}
const mrnOf = (patient) => patient.identifier?.find((i) => i.system === MRN)?.value;

/** The bundle as JSON text, every Patient.identifier value suffixed (none when suffix is ''). */
function bundleText(b, suffix) {
  if (!suffix) return JSON.stringify(b.json);
  const ids = b.patient.identifier ?? [];
  const saved = ids.map((i) => i.value);
  ids.forEach((i) => (i.value = `${i.value}${suffix}`));
  try {
    return JSON.stringify(b.json);
  } finally {
    ids.forEach((i, n) => (i.value = saved[n]));
  }
}

/** The synthetic ~1,000-resource patient: the largest bundle twice, the second copy pointing at the first's Patient. */
function syntheticBundle() {
  const big = [...bundles].sort((a, b) => b.resources - a.resources)[0];
  const first = JSON.parse(bundleText(big, '-x2'));
  const patientUrl = big.patientEntry.fullUrl;
  const fresh = new Map();
  const rest = JSON.stringify(big.json.entry.filter((e) => e !== big.patientEntry)).replace(/urn:uuid:[0-9a-fA-F-]{36}/g, (u) => {
    if (u === patientUrl) return u;
    if (!fresh.has(u)) fresh.set(u, `urn:uuid:${randomUUID()}`);
    return fresh.get(u);
  });
  const json = { ...first, entry: [...first.entry, ...JSON.parse(rest)] };
  return { file: `${big.file} x2 (synthetic)`, text: JSON.stringify(json), resources: json.entry.length, mrn: `${mrnOf(big.patient)}-x2`, source: big };
}
const synthetic = syntheticBundle();

// --- The data dir.
const givenDir = opts['data-dir'] ? resolve(opts['data-dir']) : undefined;
const dirExisted = givenDir !== undefined && existsSync(givenDir) && readdirSync(givenDir).length > 0;
const dataDir = givenDir ?? tempDir('flint-bench-search-');
mkdirSync(dataDir, { recursive: true });
const removeDirAtEnd = !dirExisted && !(givenDir && opts.keep);

console.log(
  `search bench: ${environment()}; ${bundles.length} bundles (${f0(bundles.reduce((n, b) => n + b.resources, 0))} resources) from ${corpusDir}; ` +
    `target >= ${f0(wanted)} resources; ${reps} repetitions per query (+${warmupReps} warm-up, <= ${maxSeconds} s); data dir ${dataDir}${dirExisted ? ' (reused)' : ''}`,
);
console.log(`  ${machineState()}`);

let flint;
try {
  flint = await startFlint({ cpuProfDir: opts['cpu-prof'], dataDir });
} catch (e) {
  if (removeDirAtEnd) rmSync(dataDir, { recursive: true, force: true });
  if (/MissingKeyError|has no master key/.test(String(e.message))) {
    console.error(
      `search: the data dir ${dataDir} was created in another keyring session: its master key is not in this keychain ` +
        `(scripts/with-keyring.sh makes a new keychain per command). Delete it, or reuse it only within one with-keyring session.`,
    );
    process.exit(1);
  }
  throw e;
}
const agent = keepAliveAgent(1);
const get = (path) => request(agent, flint, 'GET', path, undefined, ACCEPT);
const getJson = async (path) => {
  const res = await get(path);
  return { res, json: parseJson(res.body) };
};
const results = { bench: 'search', date: new Date().toISOString(), environment: environment(), dataDir, quick, wanted };
let met = true;
let serverStopped = false;
try {
  // --- Load.
  const counts = await countAll();
  let stored = sum(counts);
  console.log(`stored before loading: ${f0(stored)} resources`);
  results.load = await loadUntil(stored);
  const after = await countAll();
  stored = sum(after);
  results.stored = stored;
  results.storedByType = after;
  console.log(`stored: ${f0(stored)} resources (${Object.entries(after).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${f0(n)}`).join(', ')})`);
  if (stored < wanted) {
    met = false;
    console.log(`  only ${f0(stored)} of the ${f0(wanted)} resources wanted are stored (load bound reached or bundles failed)`);
  }

  // --- What to query, picked from the loaded data.
  const picks = await pick(after.Observation ?? 0);
  results.picks = picks;
  console.log(
    `picked: patient ${picks.patient.id} (MRN ${picks.patient.mrn}, ${picks.patient.observations} Observations); ` +
      `synthetic patient ${picks.synthetic?.id ?? 'NOT FOUND'}; code ${picks.code.code} (${picks.code.count} Observations, ${picks.code.patients.length} patients); ` +
      `most frequent code ${picks.frequent.code} (${f0(picks.frequent.count)})`,
  );

  // --- Queries.
  const enc = encodeURIComponent;
  const p = picks.patient;
  const queries = [
    {
      key: 'identifier',
      label: 'Patient?identifier=<MRN>',
      path: `/fhir/Patient?identifier=${enc(`${MRN}|${p.mrn}`)}`,
      check: (r) => (r.refs.length === 1 && r.refs[0] === `Patient/${p.id}` ? null : `expected Patient/${p.id} alone, got ${r.refs.length} matches`),
    },
    {
      key: 'code',
      label: `Observation?code=<${picks.code.count}x code>`,
      path: `/fhir/Observation?code=${enc(`${LOINC}|${picks.code.code}`)}`,
      check: (r) => (r.total === undefined || r.total === picks.code.count ? null : `total ${r.total}, _summary=count said ${picks.code.count}`),
    },
    {
      key: 'count-code',
      label: 'Observation?code=<most frequent>&_summary=count',
      path: `/fhir/Observation?code=${enc(`${LOINC}|${picks.frequent.code}`)}&_summary=count`,
      count: true,
      check: (r) => (typeof r.total === 'number' && r.total > 0 ? null : `no total`),
    },
    {
      key: 'count-all',
      label: 'Observation?_summary=count',
      path: '/fhir/Observation?_summary=count',
      count: true,
      check: (r) => (r.total === after.Observation ? null : `total ${r.total}, expected ${after.Observation}`),
    },
    {
      key: 'chain',
      label: 'Observation?subject.identifier=<MRN>',
      path: `/fhir/Observation?subject.identifier=${enc(`${MRN}|${p.mrn}`)}`,
      check: (r) => {
        const wrong = r.resources.filter((x) => x.subject?.reference?.replace(/^.*\/(Patient\/[^/]+)$/, '$1') !== `Patient/${p.id}`);
        if (wrong.length > 0) return `${wrong.length} of ${r.refs.length} matches are not Observations of Patient/${p.id}`;
        if (r.refs.length === 0) return 'no match';
        return r.total === undefined || r.total === p.observations ? null : `total ${r.total}, subject=Patient/${p.id} has ${p.observations}`;
      },
    },
    {
      key: 'has',
      label: 'Patient?_has:Observation:patient:code=<code>',
      path: `/fhir/Patient?_has:Observation:patient:code=${enc(`${LOINC}|${picks.code.code}`)}`,
      check: (r) => {
        const expected = new Set(picks.code.patients);
        const stray = r.refs.filter((x) => !expected.has(x));
        if (stray.length > 0 || r.refs.length === 0) return `${stray.length} of ${r.refs.length} matches have no Observation with that code`;
        return r.total === undefined || r.total === expected.size ? null : `total ${r.total}, expected ${expected.size} patients`;
      },
    },
  ];
  if (picks.synthetic) {
    queries.push({
      key: 'everything',
      label: `Patient/<~1,000>/$everything`,
      path: `/fhir/Patient/${picks.synthetic.id}/$everything`,
      walk: true,
      check: (r) => (r.refs.includes(`Patient/${picks.synthetic.id}`) ? null : `the Patient itself is not among the ${r.refs.length} entries`),
    });
    // Informative: the same walk in pages of up to 1,000, to tell per-page cost from per-resource cost.
    queries.push({
      key: 'everything-c1000',
      label: `Patient/<~1,000>/$everything?_count=1000`,
      path: `/fhir/Patient/${picks.synthetic.id}/$everything?_count=1000`,
      walk: true,
      noFirstPage: true,
      check: (r) => (r.refs.includes(`Patient/${picks.synthetic.id}`) ? null : `the Patient itself is not among the ${r.refs.length} entries`),
    });
  }
  results.queries = {};
  for (const q of queries) {
    if (only && !only.has(q.key)) continue;
    console.log(`  ${machineState()}`);
    const r = await measure(q);
    results.queries[q.key] = r;
    if (q.walk && r.firstPage && !q.noFirstPage) results.queries[`${q.key}-p1`] = r.firstPage;
  }
  if (!picks.synthetic && (!only || only.has('everything'))) results.queries.everything = { label: '$everything', status: 'no patient', reason: 'the synthetic patient was not found' };

  // --- Summary table.
  const rows = [];
  const row = (key, r, target) => {
    if (r.status !== 'measured') {
      rows.push([`${key}  ${r.label ?? ''}`, r.status === 'unsupported' ? 'not supported by this build' : r.status, '', '', '', '', '', target ? `<= ${target} ms` : '', target ? 'MISSED' : '']);
      return;
    }
    const ok = target === undefined ? undefined : r.query.p50 <= target;
    rows.push([`${key}  ${r.label}`, f0(r.entries), f2(r.query.p50), f2(r.query.p95), `${r.baselineReads} reads`, f2(r.baseline.p50), f2(r.ratio) + 'x', target ? `<= ${target} ms` : '(informative)', ok === undefined ? '' : verdict(ok)]);
  };
  for (const [key, r] of Object.entries(results.queries)) {
    const target = TARGETS[key];
    row(key, r, target);
    if (target !== undefined) {
      r.target = target;
      r.met = r.status === 'measured' && r.query.p50 <= target;
      met &&= r.met;
    }
  }
  console.log(
    `\nqueries at ${f0(stored)} resources (ms from request to last byte; baseline = GET [type]/[id] of what the query returned, sequentially):\n` +
      table(rows, ['query', 'entries', 'p50 ms', 'p95 ms', 'baseline', 'base p50 ms', 'ratio p50', 'target', 'verdict']),
  );
  for (const [key, r] of Object.entries(results.queries)) if (r.status !== 'measured') console.log(`  ${key}: ${r.status}: ${r.reason}`);

  // --- Index: sizes as the server left them, then a rebuild.
  agent.destroy();
  const code = await flint.stop();
  serverStopped = true;
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
  results.sizes = { served: sizes() };
  if (!opts['no-reindex']) {
    console.log(`\nreindex: ${machineState()}`);
    results.reindex = await reindex(stored);
    results.sizes.reindexed = sizes();
  }
  const srows = Object.entries(results.sizes).map(([when, s]) => [
    when === 'served' ? 'as the server left them' : 'after flint reindex',
    f1(s.store / 2 ** 20),
    f1(s.storeWal / 2 ** 20),
    f1(s.index / 2 ** 20),
    f1(s.indexWal / 2 ** 20),
    f2((s.index + s.indexWal) / (s.store + s.storeWal)) + 'x',
    f0((s.index + s.indexWal) / stored),
  ]);
  console.log('\non disk:\n' + table(srows, ['files', 'store.db MiB', '-wal', 'index.db MiB', '-wal', 'index / store', 'index bytes per resource']));

  const small = stored < FULL_SIZE ? ` (at ${f0(stored)} resources: the targets assume >= ${f0(FULL_SIZE)})` : '';
  console.log(`\nTargets: first page p50 <= 3 ms, _summary=count <= 10 ms, chain and _has <= 20 ms, $everything <= 50 ms${small}`);
  console.log(`RESULT search: ${verdict(met)}${small}`);
  results.met = met;
} finally {
  agent.destroy();
  if (!serverStopped) {
    const code = await flint.stop();
    if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
  }
  if (removeDirAtEnd) rmSync(dataDir, { recursive: true, force: true });
  else console.log(`data dir kept: ${dataDir}`);
}
await writeJson(opts.json, results);
if (opts.strict && !met) process.exitCode = 1;

// ---------------------------------------------------------------------------------------

function parseJson(buf) {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

function sum(counts) {
  return Object.values(counts).reduce((n, c) => n + c, 0);
}

/** Resources stored, per corpus type, from `_summary=count`. */
async function countAll() {
  const out = {};
  for (const t of corpusTypes) out[t] = await count(`/fhir/${t}?_summary=count`);
  return out;
}

async function count(path) {
  const { res, json } = await getJson(path);
  if (res.status !== 200 || typeof json?.total !== 'number') throw new Error(`${path}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  return json.total;
}

/** POSTs bundles until `wanted` resources are stored (or the time bound is reached). */
async function loadUntil(stored) {
  if (stored >= wanted) {
    console.log(`load: skipped, the data dir already holds ${f0(stored)} >= ${f0(wanted)} resources`);
    return { skipped: true, stored };
  }
  const fresh = stored === 0;
  const tag = randomBytes(3).toString('hex'); // copies loaded by this run: identifier suffix -<tag>.<pass>
  const t0 = performance.now();
  const deadline = t0 + maxLoadSeconds * 1000;
  let loaded = 0;
  let posted = 0;
  let failures = 0;
  let lastPrint = t0;
  let lastLoaded = 0;
  const post = async (file, text, resources) => {
    const res = await request(agent, flint, 'POST', '/fhir', text, JSON_HEADERS);
    const reply = res.status === 200 ? parseJson(res.body) : undefined;
    if (reply?.type !== 'transaction-response' || reply.entry?.length !== resources) {
      if (failures++ < 3) console.error(`  ${file}: ${res.status} ${res.body.toString('utf8').slice(0, 400)}`);
      if (failures > 3) throw new Error('load: more than 3 bundles failed');
      return;
    }
    loaded += resources;
    posted++;
    const now = performance.now();
    if (now - lastPrint >= 15_000) {
      console.log(
        `  loaded ${f0(stored + loaded)} resources: ${f0((loaded / (now - t0)) * 1000)}/s overall, ${f0(((loaded - lastLoaded) / (now - lastPrint)) * 1000)}/s in the last ${f0((now - lastPrint) / 1000)} s`,
      );
      lastPrint = now;
      lastLoaded = loaded;
    }
  };
  console.log(`load: POSTing bundles as transactions until >= ${f0(wanted)} resources are stored (<= ${maxLoadSeconds} s); copies tagged -${tag}.<pass>`);
  if (fresh || (await findPatient(synthetic.mrn)) === undefined) await post(synthetic.file, synthetic.text, synthetic.resources);
  let pass = fresh ? 0 : 1;
  outer: for (; ; pass++) {
    console.log(`  pass ${pass}: ${machineState()}`);
    for (const b of bundles) {
      if (stored + loaded >= wanted) break outer;
      if (performance.now() > deadline) {
        console.log(`  load stopped at the ${maxLoadSeconds} s bound`);
        break outer;
      }
      await post(b.file, bundleText(b, fresh && pass === 0 ? '' : `-${tag}.${pass}`), b.resources);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const r = { transactions: posted, resources: loaded, seconds, rps: loaded / seconds, failures, tag };
  console.log(`load: ${posted} transactions, ${f0(loaded)} resources in ${f1(seconds)} s: ${f0(r.rps)} resources/s${failures ? `, ${failures} FAILED` : ''}`);
  return r;
}

/** The id of the Patient with this MRN, if exactly one. */
async function findPatient(mrn) {
  const { json } = await getJson(`/fhir/Patient?identifier=${encodeURIComponent(`${MRN}|${mrn}`)}&_count=2`);
  const hits = (json?.entry ?? []).filter((e) => e.search?.mode !== 'outcome');
  return hits.length === 1 ? hits[0].resource.id : undefined;
}

/** Patients and codes to query, from the server (the counts) and the corpus (the candidates). */
async function pick(observations) {
  // The patient of the first bundle, as loaded first into a fresh data dir.
  let patient;
  for (const b of bundles) {
    const id = await findPatient(mrnOf(b.patient));
    if (id) {
      patient = { id, mrn: mrnOf(b.patient), file: b.file };
      break;
    }
  }
  if (!patient) throw new Error('no patient of the corpus found by its MRN');
  patient.observations = await count(`/fhir/Observation?subject=Patient/${patient.id}&_summary=count`);
  const syntheticId = await findPatient(synthetic.mrn);
  // A LOINC code with a few dozen Observations: candidates by their corpus frequency scaled
  // to what is loaded, then counted on the server.
  const scale = observations / corpusObservations;
  const byDistance = [...corpusCodes].sort((a, b) => Math.abs(a[1] * scale - FEW_DOZEN) - Math.abs(b[1] * scale - FEW_DOZEN));
  let code;
  for (const [c] of byDistance.slice(0, 12)) {
    const n = await count(`/fhir/Observation?code=${encodeURIComponent(`${LOINC}|${c}`)}&_summary=count`);
    if (!code || Math.abs(n - FEW_DOZEN) < Math.abs(code.count - FEW_DOZEN)) code = { code: c, count: n };
    if (n >= 12 && n <= 100) break;
  }
  // The patients who have it: the subjects of its Observations (for checking _has).
  const { json } = await getJson(`/fhir/Observation?code=${encodeURIComponent(`${LOINC}|${code.code}`)}&_count=1000`);
  code.patients = [...new Set((json?.entry ?? []).map((e) => e.resource?.subject?.reference).filter(Boolean).map((r) => r.replace(/^.*\/(Patient\/[^/]+)$/, '$1')))];
  const [top] = [...corpusCodes].sort((a, b) => b[1] - a[1]);
  const frequent = { code: top[0], count: await count(`/fhir/Observation?code=${encodeURIComponent(`${LOINC}|${top[0]}`)}&_summary=count`) };
  return {
    patient,
    synthetic: syntheticId ? { id: syntheticId, mrn: synthetic.mrn, built: `${synthetic.source.file} twice, ${synthetic.resources} resources` } : undefined,
    code,
    frequent,
  };
}

/** Why a reply shows the query was not (fully) evaluated, or undefined. */
function unsupported(res, json) {
  const diag = (oo) => (oo?.issue ?? []).map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ').slice(0, 200);
  if (res.status !== 200) return `HTTP ${res.status}${json?.resourceType === 'OperationOutcome' ? `: ${diag(json)}` : ''}`;
  if (json?.resourceType === 'OperationOutcome') return `OperationOutcome: ${diag(json)}`;
  if (json?.resourceType !== 'Bundle') return `not a Bundle (${json?.resourceType ?? 'no JSON'})`;
  const outcome = (json.entry ?? []).find((e) => e.search?.mode === 'outcome');
  if (outcome) return `parameters ignored (search.mode = outcome): ${diag(outcome.resource)}`;
  return undefined;
}

/**
 * Runs the query once (every page when walking): ms to the first page and to the last,
 * the resources returned, and why the reply is unusable, if it is.
 */
async function runQuery(q) {
  let firstMs;
  let total;
  const refs = [];
  const resources = [];
  let path = q.path;
  let firstRefs = 0;
  let pages = 0;
  // Only the requests are timed (send to last byte, summed over the pages): reading each
  // reply's JSON here, to find its entries and next link, is the client's cost, not the server's.
  let ms = 0;
  for (; path; pages++) {
    if (pages >= 200) return { why: 'more than 200 pages' };
    const sent = performance.now();
    const res = await get(path);
    ms += performance.now() - sent;
    firstMs ??= ms;
    const json = parseJson(res.body);
    const why = unsupported(res, json);
    if (why) return { why };
    total ??= json.total;
    for (const e of json.entry ?? []) {
      if (!e.resource?.resourceType || !e.resource.id) continue;
      refs.push(`${e.resource.resourceType}/${e.resource.id}`);
      resources.push(e.resource);
    }
    if (pages === 0) firstRefs = refs.length;
    const next = q.walk ? json.link?.find((l) => l.relation === 'next')?.url : undefined;
    if (next) {
      const u = new URL(next);
      path = u.pathname + u.search;
    } else path = undefined;
  }
  return { ms, firstMs, total, refs, resources, firstRefs, pages };
}

/** GET [type]/[id] of each ref, one after the other; ms after the first `mark` reads and after all. */
async function readAll(refs, mark = refs.length) {
  const t0 = performance.now();
  let markMs = mark === 0 ? 0 : undefined;
  for (let i = 0; i < refs.length; i++) {
    const res = await get(`/fhir/${refs[i]}`);
    if (res.status !== 200) throw new Error(`baseline read ${refs[i]}: ${res.status}`);
    if (i + 1 === mark) markMs = performance.now() - t0;
  }
  return { ms: performance.now() - t0, markMs };
}

async function measure(q) {
  const base = { label: q.label, path: q.path };
  const probe = await runQuery(q);
  if (probe.why) {
    console.log(`  ${q.key.padEnd(16)} not supported by this build: ${probe.why}`);
    return { ...base, status: 'unsupported', reason: probe.why };
  }
  const wrong = q.check(probe);
  if (wrong) {
    console.log(`  ${q.key.padEnd(16)} wrong result (not timed): ${wrong}`);
    return { ...base, status: 'wrong result', reason: wrong, entries: probe.refs.length };
  }
  // A count returns no resources: its baseline is one read (one round trip).
  const refs = q.count ? [`Patient/${results.picks.patient.id}`] : probe.refs;
  const samples = [];
  const t0 = performance.now();
  for (let i = 0; i < warmupReps + reps && (i < warmupReps || performance.now() - t0 < maxSeconds * 1000); i++) {
    const r = await runQuery(q);
    if (r.why) throw new Error(`${q.key}: the reply changed to unsupported: ${r.why}`);
    const b = await readAll(refs, q.walk ? probe.firstRefs : refs.length);
    if (i >= warmupReps) samples.push({ q: r.ms, b: b.ms, q1: r.firstMs, b1: b.markMs });
  }
  // The figures of one timed series: query times q, baseline times b, per repetition.
  const measured = (fields, entries, baselineReads, q, b) => ({
    ...fields,
    status: 'measured',
    entries,
    reps: samples.length,
    query: summarize(samples.map(q)),
    baselineReads,
    baseline: summarize(samples.map(b)),
    ratio: median(samples.map((s) => q(s) / b(s))),
  });
  const r = measured({ ...base, total: probe.total }, probe.refs.length, refs.length, (s) => s.q, (s) => s.b);
  const line = (key, x) =>
    console.log(
      `  ${key.padEnd(16)} ${String(x.entries).padStart(5)} entries  p50 ${f2(x.query.p50)} ms  p95 ${f2(x.query.p95)} ms   baseline ${x.baselineReads} reads p50 ${f2(x.baseline.p50)} ms   ratio ${f2(x.ratio)}x  (${x.reps} reps${x.pages ? `, ${x.pages} pages` : ''})`,
    );
  if (q.walk) r.pages = probe.pages;
  line(q.key, r);
  if (q.walk && !q.noFirstPage) {
    const label = `${q.label}, first page`;
    r.firstPage = measured({ label, path: q.path }, probe.firstRefs, probe.firstRefs, (s) => s.q1, (s) => s.b1);
    line(`${q.key}-p1`, r.firstPage);
  }
  return r;
}

function sizes() {
  const size = (f) => {
    try {
      return statSync(join(dataDir, f)).size;
    } catch {
      return 0;
    }
  };
  return { store: size('store.db'), storeWal: size('store.db-wal'), index: size('index.db'), indexWal: size('index.db-wal') };
}

/** Runs `flint reindex` on the data dir (the server is stopped): resources/s of the rebuild. */
async function reindex(resources) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(REPO, 'bin/flint.js'), 'reindex', '--data-dir', dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let lastPrint = t0;
  const onData = (d) => {
    out += d;
    const lines = out.trimEnd().split('\n');
    if (performance.now() - lastPrint > 15_000) {
      lastPrint = performance.now();
      console.log(`  ${lines[lines.length - 1]}`);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const killer = setTimeout(() => proc.kill('SIGTERM'), maxReindexSeconds * 1000);
  const code = await new Promise((r) => proc.once('exit', (c, s) => r(c ?? s)));
  clearTimeout(killer);
  const wall = (performance.now() - t0) / 1000;
  const m = /Reindexed (\d+) changes in ([\d.]+) s/.exec(out);
  if (code !== 0 || !m) {
    console.log(`  flint reindex failed (${code}${wall >= maxReindexSeconds ? `, stopped at the ${maxReindexSeconds} s bound` : ''}):\n${out.slice(-1500)}`);
    return { failed: true, code, seconds: wall };
  }
  const changes = Number(m[1]);
  const seconds = Number(m[2]);
  const r = { resources, changes, seconds, wallSeconds: wall, rps: resources / seconds, changesPerSecond: changes / seconds };
  console.log(
    `  flint reindex: ${f0(resources)} resources (${f0(changes)} changes) in ${f1(seconds)} s: ${f0(r.rps)} resources/s ` +
      `(${f1(wall)} s for the whole command, with start-up: ${f0(resources / wall)} resources/s)`,
  );
  r.met = r.rps >= REINDEX_TARGET;
  console.log(`  target (issue 12): >= ${f0(REINDEX_TARGET)} resources/s -> ${verdict(r.met)}`);
  return r;
}
