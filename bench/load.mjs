/**
 * Load (issue 13, "Load and faults"): 50 keep-alive connections against one `flint serve`,
 * with the mix of bench/load-mix.mjs (50% reads, 20% searches, 15% creates, 10% updates,
 * 5% 3-entry transactions, interleaved in a fixed pattern of 20). The server is seeded first
 * with the first --bundles (10) Synthea smart-2019 bundles as transactions, plus --patients
 * (200) Patients created one by one (the update targets), then warmed up for --warmup
 * seconds (3, closed loop, same mix, not counted). Then one of three runs (bench/load-run.mjs):
 *
 *   (default)           CLOSED loop for --seconds (60): each connection sends its next request
 *                       as soon as the previous one is answered. This is the server at
 *                       saturation: by Little's law its mean latency is 50 / throughput.
 *   --rate R            OPEN loop for --seconds: R requests/s offered in total, each connection
 *                       on a fixed schedule (every 50/R s, the connections evenly staggered),
 *                       latency from each request's due time, so queueing counts.
 *   --sweep R1,R2,...   OPEN-loop steps of --step-seconds (20) at each rate in turn, on the
 *                       same server: p50/p95/p99 per kind and overall per rate, and the highest
 *                       rate with overall p99 <= 50 ms, 0 errors and nothing left unsent.
 *
 *   scripts/with-keyring.sh node bench/load.mjs [--seconds 60] [--connections 50] [--bundles 10]
 *       [--patients 200] [--warmup 3] [--baseline-seconds 15] [--rate R | --sweep R1,R2,...]
 *       [--step-seconds 20] [--drain-seconds 10] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * Reported: per kind, count, errors (an unexpected status, a transaction entry not 201, or a
 * socket error), p50/p95/p99/max; overall p99 and requests/s. The server's RSS
 * (/proc/<pid>/status VmRSS) every second: min/max, the maxima of each third of the run and
 * the last 10 s slope. "Bounded" means: the max of the last third is <= 1.2x the max of the
 * middle third. The audit backlog is not observable from outside (GET /flint/audit/verify
 * reports journalPending, but needs the auditor role, chains the journal first and verifies
 * the whole chain: it would disturb the run); as a proxy the size of <data dir>/audit.journal
 * (events journaled and not yet chained into audit.db: emptied after each batch) is sampled
 * every 250 ms, with audit.db's size every second. Same rule: the journal's max in the last
 * third <= 1.2x the middle third's, or <= 64 KiB (a few batches).
 *
 * Baseline (same run, after Flint; closed and --rate runs, and a sweep given
 * --baseline-seconds): a 50-connection closed loop of GETs, --baseline-seconds (15), against
 * bench/bare-server.mjs in its own process answering every request with the bytes of a real
 * Flint GET Patient/<id> reply: the HTTP floor of p99 on this machine.
 *
 * Target (issue 13): "50 connections, a mix of reads, searches, creates, updates and
 * transactions for 60 s: 0 errors, p99 <= 50 ms; RSS and the audit backlog stay bounded."
 * Which run judges it: the issue names no request rate, and a closed loop with no think time
 * is not a clinic: it keeps 50 requests in the server at all times, so its p99 can only be
 * <= 50 ms if the server does several thousand requests/s of this mix, whatever the clinic
 * sends. Both are reported, separately, and neither is folded into the other:
 *   - the closed loop's throughput and p99 are the saturation figures; its RESULT line
 *     ("RESULT load:") compares that p99 with 50 ms, the literal reading, and says MISSED
 *     when it is over;
 *   - the open loop says at which offered rates the 50 connections see p99 <= 50 ms with 0
 *     errors: "RESULT load-open:" for one --rate (RSS bounded too), and for --sweep the
 *     highest such rate of those tried ("met up to X requests/s"). That is the figure to
 *     hold against a clinic's real request rate.
 */
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
import { ACCEPT, KINDS, mixMaker, seed } from './load-mix.mjs';
import { runClosed, runOpen } from './load-run.mjs';

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
  rate: { type: 'string' },
  sweep: { type: 'string' },
  'step-seconds': { type: 'string' },
  'drain-seconds': { type: 'string' },
});
const seconds = Number(opts.seconds ?? 60);
const connections = Number(opts.connections ?? 50);
const bundleCount = Number(opts.bundles ?? 10);
const patientCount = Number(opts.patients ?? 200);
const warmupSeconds = Number(opts.warmup ?? 3);
const rate = opts.rate === undefined ? undefined : Number(opts.rate);
const sweep = opts.sweep?.split(',').map(Number);
const stepSeconds = Number(opts['step-seconds'] ?? 20);
const drainSeconds = Number(opts['drain-seconds'] ?? 10);
const mode = sweep ? 'sweep' : rate !== undefined ? 'open' : 'closed';
const baselineSeconds = Number(opts['baseline-seconds'] ?? (mode === 'sweep' ? 0 : 15));
if ([rate, ...(sweep ?? [])].some((r) => r !== undefined && !(r > 0))) throw new Error('--rate and --sweep take request rates > 0');
if (sweep && rate !== undefined) throw new Error('--rate and --sweep exclude each other');

const files = syntheaBundlePaths('load bench').slice(0, bundleCount);
build(opts);
const bundles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const { patient, source } = typicalPatient();
const patientBody = JSON.stringify(patient);
const what = { closed: `closed loop for ${seconds} s`, open: `open loop at ${rate} requests/s for ${seconds} s`, sweep: `open-loop sweep, ${stepSeconds} s per rate: ${sweep?.join(', ')} requests/s` }[mode];
console.log(
  `load bench: ${environment()}; ${connections} connections, ${what} (+${warmupSeconds} s warm-up); ` +
    `seed: ${bundles.length} Synthea bundles (${f0(bundles.reduce((n, b) => n + b.entry.length, 0))} resources) + ${patientCount} Patients from ${source}`,
);
console.log(`  ${machineState()}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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
/** p50/p95/p99 of a summary as one cell. */
const triple = (s) => (s ? `${f1(s.p50)} / ${f1(s.p95)} / ${f1(s.p99)}` : '-');
/** Passes the open-loop bar: 0 errors, nothing unsent, overall p99 within the target. */
const stepMet = (s) => s.errors === 0 && s.unsent === 0 && s.overall.p99 <= TARGET_P99;

const results = { bench: 'load', mode, date: new Date().toISOString(), environment: environment(), seconds, connections, bundles: files.length, patients: patientCount };
const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
let readReply;
try {
  // --- Seed.
  const t0 = performance.now();
  const seeded = await seed(flint, bundles, patientCount, patientBody);
  console.log(
    `seeded in ${f1((performance.now() - t0) / 1000)} s: ${seeded.ids.Patient.length} Synthea Patients, ${f0(seeded.ids.Observation.length)} Observations (${seeded.codeList.length} LOINC codes), ${seeded.created.length} created Patients`,
  );
  {
    const a = keepAliveAgent(1);
    readReply = await request(a, flint, 'GET', `/fhir/Patient/${seeded.ids.Patient[0]}`, undefined, ACCEPT);
    a.destroy();
  }
  const make = mixMaker(seeded, patient, patientBody);

  // --- Warm-up, then the measured run(s) with the samplers.
  if (warmupSeconds > 0) {
    const w = await runClosed(flint, warmupSeconds, { connections, make });
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
  rss.push(memMiB(flint.pid).rss);
  const rssBefore = rss[0];
  const sample = (ms) => window.push(ms);
  // The measured run's window on CLOCK_MONOTONIC (V8 profiles' clock): bench/load-parts.mjs.
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  const monoStartUs = monoUs();
  if (mode === 'closed') results.flint = await runClosed(flint, seconds, { connections, make, sample });
  else if (mode === 'open') results.flint = await runOpen(flint, seconds, { connections, rate, make, sample, drainSeconds });
  else {
    results.sweep = [];
    for (const r of sweep) {
      const stepStartUs = monoUs();
      const s = await runOpen(flint, stepSeconds, { connections, rate: r, make, sample, drainSeconds });
      s.window = { monoStartUs: stepStartUs, monoEndUs: monoUs() };
      results.sweep.push(s);
      console.log(
        `  ${r} requests/s offered: ${f0(s.rps)}/s answered, ${s.errors} errors, ${s.unsent} unsent, p99 ${f1(s.overall.p99)} ms (wait p99 ${f1(s.wait.p99)} ms) -> ${stepMet(s) ? 'met' : 'missed'}; ${machineState()}`,
      );
      if (s.firstErrors.length) console.log(`    first errors:\n    ${s.firstErrors.join('\n    ')}`);
      await sleep(1000);
    }
  }
  results.window = { monoStartUs, monoEndUs: monoUs() };
  clearInterval(rssTimer);
  clearInterval(journalTimer);
  await sleep(200);
  results.rss = { samples: rss, anon, before: rssBefore, after: memMiB(flint.pid).rss };
  results.wal = wal;
  results.auditJournal = { samples: journalSizes };
  results.auditDb = { samples: auditDbSizes };
  results.perSecond = perSecond;
  results.dataDirFiles = Object.fromEntries(readdirSync(flint.dataDir).map((f) => [f, sizeOf(join(flint.dataDir, f))]));
  if (results.flint?.firstErrors.length) console.log(`first errors:\n  ${results.flint.firstErrors.join('\n  ')}`);
} finally {
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output().slice(-3000)}`);
}

// --- Baseline: GETs alone against a bare node:http server sending a real read's bytes.
if (baselineSeconds > 0) {
  console.log(`  ${machineState()}`);
  const bare = await startBareChild(readReply.status, { 'content-type': readReply.headers['content-type'], etag: readReply.headers.etag ?? '' }, readReply.body);
  try {
    const get = (i) => ({ kind: 'read', method: 'GET', path: `/fhir/Patient/x${i}`, headers: ACCEPT, expect: 200 });
    const b = await runClosed(bare, baselineSeconds, { connections, make: get });
    results.bare = { seconds: b.seconds, requests: b.requests, rps: b.rps, errors: b.errors, ...b.overall };
  } finally {
    await bare.stop();
  }
}

// --- Report.
const row = (name, r) => [name, f0(r.count), String(r.errors), f2(r.p50), f2(r.p95), f2(r.p99), f1(r.max)];
const m = results.flint;
if (m) {
  const head = mode === 'open' ? `Flint, open loop, ${connections} connections, ${f0(rate)} requests/s offered for ${seconds} s` : `Flint, closed loop, ${connections} connections, ${f1(m.seconds)} s`;
  console.log(
    `\n${head}: ${f0(m.requests)} requests, ${f0(m.rps)} requests/s answered\n` +
      table(
        [
          ...KINDS.filter((k) => m.kinds[k]).map((k) => row(k, m.kinds[k])),
          ...Object.keys(m.sub)
            .sort()
            .map((k) => row(`  ${k}`, m.sub[k])),
          row('all', { count: m.requests, errors: m.errors, ...m.overall }),
          ...(results.bare ? [row(`bare node:http, GETs, closed loop (${f0(results.bare.rps)}/s)`, { count: results.bare.requests, ...results.bare })] : []),
        ],
        ['kind', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      ),
  );
  if (mode === 'open') {
    console.log(`open loop: latency from each request's due time; due -> sent (waiting for its connection) p50 ${f2(m.wait.p50)} ms, p99 ${f2(m.wait.p99)} ms, max ${f1(m.wait.max)} ms; unsent at the cut-off: ${m.unsent}`);
  }
  const worstSecond = m.requests ? results.perSecond.reduce((a, b) => (b.p99 > a.p99 ? b : a), { p99: 0 }) : undefined;
  console.log(`per-second p99: worst ${f1(worstSecond?.p99)} ms; requests/s per second: ${results.perSecond.map((s) => s.requests).join(' ')}`);
  if (results.bare) {
    results.ratio = { readP99: m.kinds.read.p99 / results.bare.p99, overallP99: m.overall.p99 / results.bare.p99 };
    console.log(`flint read p99 / bare p99: ${f2(results.ratio.readP99)}x; flint overall p99 / bare p99: ${f2(results.ratio.overallP99)}x`);
  }
} else {
  const cols = ['offered/s', 'answered/s', 'errors', 'unsent', 'all p50/p95/p99 ms', ...KINDS.map((k) => `${k} p50/p95/p99`), 'wait p99', `p99 <= ${TARGET_P99}`];
  const rows = results.sweep.map((s) => [f0(s.offered), f0(s.rps), String(s.errors), String(s.unsent), triple(s.overall), ...KINDS.map((k) => triple(s.kinds[k])), f1(s.wait.p99), stepMet(s) ? 'met' : 'missed']);
  console.log(`\nFlint, open-loop sweep, ${connections} connections, ${stepSeconds} s per rate (latency from each request's due time; wait = due -> sent)\n${table(rows, cols)}`);
  if (results.bare) console.log(`bare node:http, GETs, closed loop: p99 ${f2(results.bare.p99)} ms (${f0(results.bare.rps)}/s)`);
}

const rs = results.rss.samples.filter(Number.isFinite);
const [r1, r2, r3] = thirds(rs);
const rssBounded = r3 <= RSS_GROWTH * r2;
results.rss = { ...results.rss, min: Math.min(...rs), max: Math.max(...rs), thirds: [r1, r2, r3], last10Slope: slope(rs, 10), bounded: rssBounded };
console.log(
  `RSS (MiB, every second): before ${f0(results.rss.before)}, min ${f0(results.rss.min)}, max ${f0(results.rss.max)}, after ${f0(results.rss.after)}; ` +
    `max per third ${[r1, r2, r3].map(f0).join(' / ')}; last 10 s ${f2(results.rss.last10Slope)} MiB/s; ` +
    `last third <= ${RSS_GROWTH}x middle third: ${rssBounded ? 'bounded' : 'NOT bounded'}${mode === 'sweep' ? ' (the offered rate rises during a sweep)' : ''}`,
);
console.log(`  RSS every 5 s: ${rs.filter((_, i) => i % 5 === 0).map(f0).join(' ')}; of it anonymous: ${results.rss.anon.filter((_, i) => i % 5 === 0).map(f0).join(' ')}`);
// Informative: the WAL files' sizes.
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

// --- Verdict: the closed loop (saturation) and the open loop (a stated rate) apart; see the header.
const target = `Target (issue 13): 50 connections of the mix: 0 errors, overall p99 <= ${TARGET_P99} ms, RSS and the audit backlog bounded`;
const bounds = `RSS ${rssBounded ? 'bounded' : 'not bounded'}, audit journal ${journalBounded ? 'bounded' : 'not bounded'}`;
if (mode === 'closed') {
  const met = m.errors === 0 && m.overall.p99 <= TARGET_P99 && rssBounded;
  results.met = met;
  console.log(
    `\n${target}\n` +
      `  closed loop = saturation (no think time; mean latency = ${connections} / throughput = ${f1((connections / m.rps) * 1000)} ms here): ` +
      `${f0(m.rps)} requests/s, ${m.errors} errors, p99 ${f1(m.overall.p99)} ms, ${bounds} -> ${verdict(met)}\n` +
      `  at a stated offered rate: bench/load.mjs --rate R or --sweep R1,R2,... (open loop)`,
  );
  console.log(`RESULT load: ${verdict(met)}`);
} else if (mode === 'open') {
  const met = stepMet(m) && rssBounded;
  results.met = met;
  console.log(
    `\n${target}\n` +
      `  open loop at ${f0(rate)} requests/s offered (${f2(rate / connections)}/s per connection): ${f0(m.rps)}/s answered, ${m.errors} errors, ${m.unsent} unsent, ` +
      `p99 ${f1(m.overall.p99)} ms, ${bounds} -> ${verdict(met)} at this rate\n` +
      `  the saturation figure is the closed loop's (bench/load.mjs without --rate)`,
  );
  console.log(`RESULT load-open: ${verdict(met)}`);
} else {
  const passed = results.sweep.filter(stepMet).map((s) => s.offered);
  const failed = results.sweep.filter((s) => !stepMet(s)).map((s) => s.offered);
  const best = passed.length ? Math.max(...passed) : undefined;
  const firstMiss = failed.length ? Math.min(...failed) : undefined;
  results.highestMet = best ?? null;
  results.lowestMissed = firstMiss ?? null;
  console.log(
    `\n${target}\n` +
      `  open-loop sweep: p99 <= ${TARGET_P99} ms with 0 errors and nothing unsent at ${passed.length ? passed.join(', ') : 'none'} requests/s; ` +
      `missed at ${failed.length ? failed.join(', ') : 'none'} requests/s; ${bounds} over the whole sweep\n` +
      `  highest rate met: ${best === undefined ? 'none of those tried' : `${best} requests/s (${f2(best / connections)}/s per connection)`}` +
      `${best !== undefined && firstMiss !== undefined && firstMiss < best ? ` (but missed at ${firstMiss} requests/s, below it: noise, read with care)` : ''}\n` +
      `  the saturation figure is the closed loop's (bench/load.mjs without --rate or --sweep)`,
  );
  console.log(`RESULT load-sweep: ${best === undefined ? 'MISSED at every rate tried' : `MET up to ${best} requests/s`}`);
}
await writeJson(opts.json, results);
