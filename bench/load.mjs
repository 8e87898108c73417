/**
 * Load: 50 keep-alive connections (closed loop: each sends its next request as soon as the
 * previous one is answered) against one `flint serve` for --seconds (60), with a mix of
 *   50% reads         GET Patient/<id> or Observation/<id> of seeded resources
 *   20% searches      Observation?patient=<seeded>, Patient?family=<seeded>, Observation?code=<LOINC of a seeded one>
 *   15% creates       POST Patient (the typical Synthea Patient)
 *   10% updates       PUT Patient/<id> of a Patient created by this bench, with a changed name
 *                     (no If-Match: concurrent updates of one Patient are last-writer-wins, never 412)
 *    5% transactions  a Bundle of 3 POSTs (a Patient and two Observations pointing at it)
 * in a fixed interleaving of 20 (so every second sees the same mix). The server is seeded
 * first with the first --bundles (10) Synthea smart-2019 bundles as transactions, plus
 * --patients (200) Patients created one by one (the update targets), then warmed up for
 * --warmup seconds (3, same mix, not counted).
 *
 *   scripts/with-keyring.sh node bench/load.mjs [--seconds 60] [--connections 50] [--bundles 10]
 *       [--patients 200] [--warmup 3] [--baseline-seconds 15] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * Reported: per kind, count, errors (an unexpected status, a transaction entry not 201, or a
 * socket error), p50/p95/p99/max from sending the request to the last byte of the answer;
 * overall p99 and requests/s. The server's RSS (/proc/<pid>/status VmRSS) every second:
 * min/max, the maxima of each third of the run and the last 10 s slope. "Bounded" means: the
 * max of the last third is <= 1.2x the max of the middle third. The audit backlog is not
 * observable from outside (GET /flint/audit/verify reports journalPending, but needs the
 * auditor role, chains the journal first and verifies the whole chain: it would disturb the
 * run); as a proxy the size of <data dir>/audit.journal (events journaled and not yet chained
 * into audit.db: emptied after each batch) is sampled every 250 ms, with audit.db's size
 * every second. Same rule: the journal's max in the last third <= 1.2x the middle third's, or
 * <= 64 KiB (a few batches).
 *
 * Baseline (same run, after Flint): the same 50-connection closed loop, --baseline-seconds,
 * against bench/bare-server.mjs in its own process answering every request with the bytes of a
 * real Flint GET Patient/<id> reply: the read mix alone on bare node:http, for the HTTP floor
 * of p99 on this machine. Printed: Flint read p99 / bare p99 and Flint overall p99 / bare p99.
 *
 * Target (issue 13): 0 errors, overall p99 <= 50 ms, RSS bounded -> MET, else MISSED.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  build,
  environment,
  f0,
  f1,
  f2,
  keepAliveAgent,
  machineState,
  options,
  request,
  startBareChild,
  startFlint,
  summarize,
  syntheaBundlePaths,
  table,
  typicalPatient,
  verdict,
  writeJson,
} from './lib.mjs';

const TARGET_P99 = 50;
const RSS_GROWTH = 1.2;
const JOURNAL_SLACK = 64 * 1024;
const opts = options({
  seconds: { type: 'string' },
  connections: { type: 'string' },
  bundles: { type: 'string' },
  patients: { type: 'string' },
  warmup: { type: 'string' },
  'baseline-seconds': { type: 'string' },
});
const seconds = Number(opts.seconds ?? 60);
const connections = Number(opts.connections ?? 50);
const bundleCount = Number(opts.bundles ?? 10);
const patientCount = Number(opts.patients ?? 200);
const warmupSeconds = Number(opts.warmup ?? 3);
const baselineSeconds = Number(opts['baseline-seconds'] ?? 15);
const LOINC = 'http://loinc.org';
const JSON_HEADERS = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
const ACCEPT = { accept: 'application/fhir+json' };
const MINIMAL = { ...JSON_HEADERS, prefer: 'return=minimal' };
/** The mix, interleaved: 10 reads, 4 searches, 3 creates, 2 updates, 1 transaction in 20. */
const MIX = ['read', 'search', 'read', 'create', 'read', 'update', 'read', 'search', 'read', 'create', 'read', 'transaction', 'read', 'search', 'read', 'create', 'read', 'update', 'read', 'search'];
const KINDS = ['read', 'search', 'create', 'update', 'transaction'];

const files = syntheaBundlePaths('load bench').slice(0, bundleCount);
build(opts);
const bundles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const { patient, source } = typicalPatient();
const patientBody = JSON.stringify(patient);
console.log(
  `load bench: ${environment()}; ${connections} connections for ${seconds} s (+${warmupSeconds} s warm-up); ` +
    `seed: ${bundles.length} Synthea bundles (${f0(bundles.reduce((n, b) => n + b.entry.length, 0))} resources) + ${patientCount} Patients from ${source}`,
);
console.log(`  ${machineState()}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (xs, i) => xs[i % xs.length];
/** VmRSS and its anonymous part (RssAnon: heaps, SQLite caches) in MiB. */
const memMiB = (pid) => {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024 };
  } catch {
    return { rss: NaN, anon: NaN };
  }
};
const rssMiB = (pid) => memMiB(pid).rss;
const sizeOf = (file) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};
const thirds = (xs) => {
  const n = xs.length;
  const a = Math.floor(n / 3);
  const b = Math.floor((2 * n) / 3);
  return [xs.slice(0, a), xs.slice(a, b), xs.slice(b)].map((p) => (p.length ? Math.max(...p) : NaN));
};
/** Least-squares slope of the last n samples (one per second): units per second. */
const slope = (xs, n) => {
  const ys = xs.slice(-n);
  const k = ys.length;
  if (k < 2) return NaN;
  const mx = (k - 1) / 2;
  const my = ys.reduce((s, y) => s + y, 0) / k;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
};

const results = { bench: 'load', date: new Date().toISOString(), environment: environment(), seconds, connections, bundles: files.length, patients: patientCount };
const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
let readReply;
try {
  // --- Seed.
  const seedAgent = keepAliveAgent(2);
  const ids = { Patient: [], Observation: [] };
  const families = new Set();
  const codes = new Set();
  const t0 = performance.now();
  for (const b of bundles) {
    const res = await request(seedAgent, flint, 'POST', '/fhir', JSON.stringify(b), MINIMAL);
    if (res.status !== 200) throw new Error(`seed: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    const reply = JSON.parse(res.body.toString('utf8'));
    reply.entry.forEach((e, i) => {
      const [, type, id] = /(?:^|\/)(\w+)\/([^/]+)\/_history\//.exec(e.response?.location ?? '') ?? [];
      const r = b.entry[i].resource;
      if (type === 'Patient') {
        ids.Patient.push(id);
        for (const n of r.name ?? []) if (n.family) families.add(n.family);
      } else if (type === 'Observation') {
        ids.Observation.push(id);
        for (const c of r.code?.coding ?? []) if (c.system === LOINC) codes.add(c.code);
      }
    });
  }
  const created = [];
  for (let i = 0; i < patientCount; i++) {
    const res = await request(seedAgent, flint, 'POST', '/fhir/Patient', patientBody, MINIMAL);
    if (res.status !== 201) throw new Error(`seed create: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    created.push(/\/Patient\/([^/]+)/.exec(res.headers.location)[1]);
  }
  seedAgent.destroy();
  const familyList = [...families];
  const codeList = [...codes];
  console.log(
    `seeded in ${f1((performance.now() - t0) / 1000)} s: ${ids.Patient.length} Synthea Patients, ${f0(ids.Observation.length)} Observations (${codeList.length} LOINC codes), ${created.length} created Patients`,
  );
  {
    const a = keepAliveAgent(1);
    readReply = await request(a, flint, 'GET', `/fhir/Patient/${ids.Patient[0]}`, undefined, ACCEPT);
    a.destroy();
  }

  // --- The requests.
  const enc = encodeURIComponent;
  let updates = 0;
  const make = (i) => {
    const kind = MIX[i % MIX.length];
    const j = Math.floor(i / MIX.length);
    switch (kind) {
      case 'read': {
        const obs = j % 2 === 1;
        const list = obs ? ids.Observation : ids.Patient;
        return { kind, method: 'GET', path: `/fhir/${obs ? 'Observation' : 'Patient'}/${pick(list, j * 7919)}`, headers: ACCEPT, expect: 200 };
      }
      case 'search': {
        const which = j % 3;
        const path =
          which === 0
            ? `/fhir/Observation?patient=${pick(ids.Patient, j)}`
            : which === 1
              ? `/fhir/Patient?family=${enc(pick(familyList, j))}`
              : `/fhir/Observation?code=${enc(`${LOINC}|${pick(codeList, j * 31)}`)}`;
        return { kind, sub: ['search: Observation?patient', 'search: Patient?family', 'search: Observation?code'][which], method: 'GET', path, headers: ACCEPT, expect: 200 };
      }
      case 'create':
        return { kind, method: 'POST', path: '/fhir/Patient', body: patientBody, headers: MINIMAL, expect: 201 };
      case 'update': {
        const id = pick(created, j * 13);
        const n = ++updates;
        const body = JSON.stringify({ ...patient, id, name: [{ use: 'official', family: `Loadtest${n % 1000}`, given: ['Update', String(n)] }] });
        return { kind, method: 'PUT', path: `/fhir/Patient/${id}`, body, headers: MINIMAL, expect: 200 };
      }
      case 'transaction': {
        const p = `urn:uuid:${randomUUID()}`;
        const obs = (code, value) => ({
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: LOINC, code }] },
            subject: { reference: p },
            effectiveDateTime: '2026-12-07T10:00:00Z',
            valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
          },
          request: { method: 'POST', url: 'Observation' },
        });
        const bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { fullUrl: p, resource: { resourceType: 'Patient', name: [{ family: `Tx${j % 1000}`, given: ['Load'] }], gender: 'female', birthDate: '1980-01-01' }, request: { method: 'POST', url: 'Patient' } },
            obs('29463-7', 70 + (j % 30)),
            obs('29463-7', 71 + (j % 30)),
          ],
        };
        return { kind, method: 'POST', path: '/fhir', body: JSON.stringify(bundle), headers: MINIMAL, expect: 200, entries: 3 };
      }
    }
    throw new Error(kind);
  };

  /** Runs the mix on `target` for `secs`; `only` restricts it to one kind (the baseline). */
  const run = async (target, secs, { only, sample } = {}) => {
    const agent = keepAliveAgent(connections);
    const lat = Object.fromEntries(KINDS.map((k) => [k, []]));
    const sub = {};
    const subErrors = {};
    const errors = Object.fromEntries(KINDS.map((k) => [k, 0]));
    const firstErrors = [];
    let next = 0;
    const t = performance.now();
    const deadline = t + secs * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) {
          let r = make(next++);
          while (only && r.kind !== only) r = make(next++);
          const s = performance.now();
          let problem;
          try {
            const res = await request(agent, target, r.method, r.path, r.body, { ...r.headers });
            if (res.status !== r.expect) problem = `${r.method} ${r.path.slice(0, 80)}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
            else if (r.entries && target.token) {
              const reply = JSON.parse(res.body.toString('utf8'));
              const bad = (reply.entry ?? []).filter((e) => !String(e.response?.status).startsWith('201'));
              if (reply.entry?.length !== r.entries || bad.length) problem = `transaction: ${JSON.stringify(reply).slice(0, 300)}`;
            }
          } catch (e) {
            problem = `${r.method} ${r.path.slice(0, 80)}: ${e.code ?? ''} ${e.message}`;
          }
          const ms = performance.now() - s;
          lat[r.kind].push(ms);
          if (r.sub) (sub[r.sub] ??= []).push(ms);
          if (problem) {
            errors[r.kind]++;
            if (r.sub) subErrors[r.sub] = (subErrors[r.sub] ?? 0) + 1;
            if (firstErrors.length < 5) firstErrors.push(problem);
          }
          sample?.(ms);
        }
      }),
    );
    const elapsed = (performance.now() - t) / 1000;
    agent.destroy();
    const all = KINDS.flatMap((k) => lat[k]);
    return {
      seconds: elapsed,
      requests: all.length,
      rps: all.length / elapsed,
      errors: KINDS.reduce((n, k) => n + errors[k], 0),
      firstErrors,
      overall: summarize(all),
      kinds: Object.fromEntries(KINDS.filter((k) => lat[k].length).map((k) => [k, { count: lat[k].length, errors: errors[k], ...summarize(lat[k]) }])),
      sub: Object.fromEntries(Object.entries(sub).map(([k, v]) => [k, { count: v.length, errors: subErrors[k] ?? 0, ...summarize(v) }])),
    };
  };

  // --- Warm-up, then the measured run with the samplers.
  if (warmupSeconds > 0) {
    const w = await run(flint, warmupSeconds);
    console.log(`warm-up: ${f0(w.requests)} requests in ${f1(w.seconds)} s, ${w.errors} errors, p99 ${f1(w.overall.p99)} ms`);
  }
  console.log(`  ${machineState()}`);
  const journal = join(flint.dataDir, 'audit.journal');
  const auditDb = join(flint.dataDir, 'audit.db');
  const rss = [];
  const journalSizes = [];
  const auditDbSizes = [];
  const perSecond = [];
  let window = [];
  const anon = [];
  const wal = { store: [], index: [] };
  const rssTimer = setInterval(() => {
    const mem = memMiB(flint.pid);
    rss.push(mem.rss);
    anon.push(mem.anon);
    auditDbSizes.push(sizeOf(auditDb));
    wal.store.push(sizeOf(join(flint.dataDir, 'store.db-wal')));
    wal.index.push(sizeOf(join(flint.dataDir, 'index.db-wal')));
    perSecond.push({ requests: window.length, p99: summarize(window).p99 });
    window = [];
  }, 1000);
  const journalTimer = setInterval(() => journalSizes.push(sizeOf(journal)), 250);
  rss.push(rssMiB(flint.pid));
  const rssBefore = rss[0];
  const main = await run(flint, seconds, { sample: (ms) => window.push(ms) });
  clearInterval(rssTimer);
  clearInterval(journalTimer);
  await sleep(200);
  const rssAfter = rssMiB(flint.pid);
  const filesAfter = Object.fromEntries(readdirSync(flint.dataDir).map((f) => [f, sizeOf(join(flint.dataDir, f))]));
  results.flint = main;
  results.rss = { samples: rss, anon, before: rssBefore, after: rssAfter };
  results.wal = wal;
  results.auditJournal = { samples: journalSizes };
  results.auditDb = { samples: auditDbSizes };
  results.perSecond = perSecond;
  results.dataDirFiles = filesAfter;
  if (main.firstErrors.length) console.log(`first errors:\n  ${main.firstErrors.join('\n  ')}`);
} finally {
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output().slice(-3000)}`);
}

// --- Baseline: the read mix alone against a bare node:http server sending a real read's bytes.
console.log(`  ${machineState()}`);
const bare = await startBareChild(readReply.status, { 'content-type': readReply.headers['content-type'], etag: readReply.headers.etag ?? '' }, readReply.body);
try {
  const agent = keepAliveAgent(connections);
  const lat = [];
  let errors = 0;
  const t = performance.now();
  const deadline = t + baselineSeconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        try {
          const res = await request(agent, bare, 'GET', `/fhir/Patient/x${lat.length}`, undefined, ACCEPT);
          if (res.status !== 200) errors++;
        } catch {
          errors++;
        }
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t) / 1000;
  agent.destroy();
  results.bare = { seconds: elapsed, requests: lat.length, rps: lat.length / elapsed, errors, ...summarize(lat) };
} finally {
  await bare.stop();
}

// --- Report.
const m = results.flint;
const row = (name, r) => [name, f0(r.count), String(r.errors), f2(r.p50), f2(r.p95), f2(r.p99), f1(r.max)];
console.log(
  `\nFlint, ${connections} connections, ${f1(m.seconds)} s: ${f0(m.requests)} requests, ${f0(m.rps)} requests/s\n` +
    table(
      [
        ...KINDS.filter((k) => m.kinds[k]).map((k) => row(k, m.kinds[k])),
        ...Object.keys(m.sub)
          .sort()
          .map((k) => row(`  ${k}`, m.sub[k])),
        row('all', { count: m.requests, errors: m.errors, ...m.overall }),
        row(`bare node:http, read mix (${f0(results.bare.rps)}/s)`, { count: results.bare.requests, ...results.bare }),
      ],
      ['kind', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    ),
);
const worstSecond = m.requests ? results.perSecond.reduce((a, b) => (b.p99 > a.p99 ? b : a), { p99: 0 }) : undefined;
console.log(`per-second p99: worst ${f1(worstSecond?.p99)} ms; requests/s per second: ${results.perSecond.map((s) => s.requests).join(' ')}`);
const ratioRead = m.kinds.read.p99 / results.bare.p99;
const ratioAll = m.overall.p99 / results.bare.p99;
results.ratio = { readP99: ratioRead, overallP99: ratioAll };
console.log(`flint read p99 / bare p99: ${f2(ratioRead)}x; flint overall p99 / bare p99: ${f2(ratioAll)}x`);

const rs = results.rss.samples.filter(Number.isFinite);
const [r1, r2, r3] = thirds(rs);
const rssBounded = r3 <= RSS_GROWTH * r2;
results.rss = { ...results.rss, min: Math.min(...rs), max: Math.max(...rs), thirds: [r1, r2, r3], last10Slope: slope(rs, 10), bounded: rssBounded };
console.log(
  `RSS (MiB, every second): before ${f0(results.rss.before)}, min ${f0(results.rss.min)}, max ${f0(results.rss.max)}, after ${f0(results.rss.after)}; ` +
    `max per third ${[r1, r2, r3].map(f0).join(' / ')}; last 10 s ${f2(results.rss.last10Slope)} MiB/s; ` +
    `last third <= ${RSS_GROWTH}x middle third: ${rssBounded ? 'bounded' : 'NOT bounded'}`,
);
console.log(`  RSS every 5 s: ${rs.filter((_, i) => i % 5 === 0).map(f0).join(' ')}; of it anonymous: ${results.rss.anon.filter((_, i) => i % 5 === 0).map(f0).join(' ')}`);
// Informative: the WAL files' sizes (SQLite does not shrink a WAL file, so this is its high-water mark).
for (const [name, xs] of Object.entries(results.wal)) {
  console.log(`  ${name}.db-wal every 5 s (MiB): ${xs.filter((_, i) => i % 5 === 0).map((x) => f0(x / 2 ** 20)).join(' ')}; max per third ${thirds(xs).map((x) => f0(x / 2 ** 20)).join(' / ')}`);
}
const js = results.auditJournal.samples;
const [j1, j2, j3] = thirds(js);
const journalBounded = j3 <= Math.max(RSS_GROWTH * j2, JOURNAL_SLACK);
const ad = results.auditDb.samples;
results.auditJournal = { ...results.auditJournal, max: Math.max(...js), mean: js.reduce((a, b) => a + b, 0) / js.length, nonEmpty: js.filter((x) => x > 0).length / js.length, thirds: [j1, j2, j3], bounded: journalBounded };
results.auditDb = { ...results.auditDb, first: ad[0], last: ad[ad.length - 1], perSecond: (ad[ad.length - 1] - ad[0]) / Math.max(1, ad.length - 1) };
console.log(
  `audit backlog (proxy: audit.journal size every 250 ms; the server does not expose its backlog): max ${f0(results.auditJournal.max / 1024)} KiB, mean ${f1(results.auditJournal.mean / 1024)} KiB, ` +
    `non-empty in ${f0(results.auditJournal.nonEmpty * 100)}% of samples; max per third ${[j1, j2, j3].map((x) => f1(x / 1024)).join(' / ')} KiB -> ${journalBounded ? 'bounded' : 'NOT bounded'}`,
);
console.log(
  `audit.db: ${f1(results.auditDb.first / 2 ** 20)} -> ${f1(results.auditDb.last / 2 ** 20)} MiB (${f0(results.auditDb.perSecond / 1024)} KiB/s); data dir at the end: ` +
    Object.entries(results.dataDirFiles)
      .map(([f, s]) => `${f} ${f1(s / 2 ** 20)} MiB`)
      .join(', '),
);

const met = m.errors === 0 && m.overall.p99 <= TARGET_P99 && rssBounded;
results.met = met;
console.log(
  `\nTarget (issue 13): 0 errors, overall p99 <= ${TARGET_P99} ms, RSS bounded\n` +
    `  ${m.errors} errors, p99 ${f1(m.overall.p99)} ms, RSS ${rssBounded ? 'bounded' : 'not bounded'} (audit journal ${journalBounded ? 'bounded' : 'not bounded'}) -> ${verdict(met)}`,
);
console.log(`RESULT load: ${verdict(met)}`);
await writeJson(opts.json, results);
