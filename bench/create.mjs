/**
 * Single creates: POST /fhir/Patient of a typical Patient, 10 concurrent keep-alive
 * connections, N creates in all (default 2000, in --rounds slices), against raw PouchDB writes into the
 * same encrypted store (openEncryptedPouch: SQLCipher, WAL, synchronous=FULL, random key)
 * with 10 writes in flight.
 *
 *   scripts/with-keyring.sh node bench/create.mjs [--count 2000] [--rounds 4] [--concurrency 10] [--seconds 60] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * Baselines (this process, same run):
 *   put        db.put of one document holding the Patient (the brief's baseline)
 *   bulk2      db.bulkDocs of the two documents Flint writes per create (head + version),
 *              i.e. the store layout's own cost without HTTP/FHIR (informative)
 *   http-put   bench/put-server.mjs, in its own process and loaded like Flint: each POST
 *              parsed and written with one encrypted `put`, nothing else; the floor of any
 *              create over HTTP on this stack and machine (informative)
 * Each round runs N/rounds writes of put, bulk2 and Flint one after the other (one store
 * and one server for all rounds, so both grow alike); the throughput ratio is the median of
 * the per-round ratios, since the disk's fsync rate drifts on a shared VM (the fdatasync/s
 * probe before each round shows by how much). Latency percentiles are over all N writes.
 * Plain PouchDB (leveldb, pouchdb-node) is not installed in this repo: that comparison is skipped.
 * Target (issue 12): Flint >= 1,000 creates/s and within 2x of `put` (put rate / Flint rate <= 2).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  REPO,
  build,
  environment,
  f0,
  f2,
  machineState,
  load,
  median,
  openBaselinePouch,
  options,
  pool,
  startFlint,
  startPutChild,
  summarize,
  table,
  typicalPatient,
  verdict,
  writeJson,
} from './lib.mjs';

const TARGET = 2;
const TARGET_RATE = 1000;
const opts = options({ count: { type: 'string' }, concurrency: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } });
const count = Number(opts.count ?? 2000);
const concurrency = Number(opts.concurrency ?? 10);
const seconds = Number(opts.seconds ?? 60); // per phase, a safety bound
const rounds = Number(opts.rounds ?? 4);
const perRoundCount = Math.ceil(count / rounds);
const WARMUP = 50;

build(opts);
const { patient, source } = typicalPatient();
const body = JSON.stringify(patient);
console.log(
  `create bench: ${environment()}; ${machineState()}; Patient from ${source} (${body.length} bytes); N=${count} per writer in ${rounds} rounds, ${concurrency} in flight`,
);
try {
  createRequire(`${REPO}/package.json`).resolve('pouchdb-node');
  console.log('  (pouchdb-node is installed, but this bench does not compare against it yet)');
} catch {
  console.log('  plain PouchDB (pouchdb-node/leveldb) is not installed: that comparison is skipped');
}

const runs = { put: [], bulk2: [], 'http-put': [], flint: [] };
const report = (round, name, r) => {
  runs[name].push(r);
  console.log(
    `  round ${round}  ${name.padEnd(8)} ${f0(r.requests)} writes in ${f2(r.seconds)} s: ${f0(r.rps).padStart(5)}/s, p50 ${f2(r.p50)} ms${r.errors ? `  ${r.errors} ERRORS` : ''}`,
  );
};

const baseline = await openBaselinePouch();
const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
const putServer = await startPutChild();
try {
  const { db } = baseline;
  const now = () => new Date().toISOString();
  const doc = (id) => ({ ...patient, id, meta: { versionId: '1', lastUpdated: now() } });
  for (let i = 0; i < WARMUP; i++) await db.put({ _id: `warm/${randomUUID()}`, ...doc('w') });
  const make = () => ({
    method: 'POST',
    path: '/fhir/Patient',
    body,
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    expect: 201,
  });
  for (let round = 1; round <= rounds; round++) {
    console.log(`  round ${round}: ${machineState()}`);
    report(
      round,
      'put',
      await pool(perRoundCount, concurrency, async () => {
        const id = randomUUID();
        await db.put({ _id: `Patient/${id}`, ...doc(id) });
      }, seconds),
    );
    report(
      round,
      'bulk2',
      await pool(perRoundCount, concurrency, async () => {
        const id = randomUUID();
        const rec = { type: 'Patient', id, vid: '1.x', n: 1, ts: now(), method: 'POST', deleted: false, resource: doc(id) };
        const res = await db.bulkDocs([
          { ...rec, _id: `h:Patient/${id}/1.x`, kind: 'version' },
          { ...rec, _id: `r:Patient/${id}`, kind: 'head' },
        ]);
        if (res.some((r) => r.error)) throw new Error('bulkDocs failed');
      }, seconds),
    );
    report(round, 'http-put', await load(putServer, { connections: concurrency, count: perRoundCount, seconds, warmup: round === 1 ? WARMUP : 0, make }));
    report(round, 'flint', await load(flint, { connections: concurrency, count: perRoundCount, seconds, warmup: round === 1 ? WARMUP : 0, make }));
  }
} finally {
  await baseline.close();
  await putServer.stop();
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
}

const results = {};
const rows = Object.entries(runs).map(([name, rs]) => {
  const lat = summarize(rs.flatMap((r) => r.samples));
  const rps = median(rs.map((r) => r.rps));
  const errors = rs.reduce((n, r) => n + (r.errors ?? 0), 0);
  const writes = rs.reduce((n, r) => n + r.requests, 0);
  const secs = rs.reduce((n, r) => n + r.seconds, 0);
  results[name] = { rps, overallRps: writes / secs, ...lat, writes, errors, rounds: rs };
  return [name, f0(writes), f0(rps), f0(writes / secs), rs.map((r) => f0(r.rps)).join(' '), f2(lat.p50), f2(lat.p95), f2(lat.p99), f2(lat.max)];
});
console.log(
  '\n' + table(rows, ['writer', 'writes', 'writes/s (median round)', 'overall', 'per round', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']),
);
const perRound = (base) => runs.flint.map((fl, i) => runs[base][i].rps / fl.rps);
const vsPut = median(perRound('put'));
const vsBulk2 = median(perRound('bulk2'));
const vsHttpPut = median(perRound('http-put'));
console.log(
  '\n' +
    table(
      [
        ['put / flint', f2(vsPut) + 'x', perRound('put').map(f2).join(' '), f2(results.flint.p50 / results.put.p50) + 'x'],
        ['bulk2 / flint', f2(vsBulk2) + 'x', perRound('bulk2').map(f2).join(' '), f2(results.flint.p50 / results.bulk2.p50) + 'x'],
        ['http-put / flint', f2(vsHttpPut) + 'x', perRound('http-put').map(f2).join(' '), f2(results.flint.p50 / results['http-put'].p50) + 'x'],
      ],
      ['ratio', 'throughput (median)', 'per round', 'p50 latency (flint/baseline)'],
    ),
);
const met = vsPut <= TARGET && results.flint.rps >= TARGET_RATE && results.flint.errors === 0;
console.log(
  `\nTarget: >= ${f0(TARGET_RATE)} creates/s and within ${TARGET}x of raw encrypted PouchDB put\n` +
    `  ${f0(results.flint.rps)} creates/s, ${f2(vsPut)}x -> ${verdict(met)}`,
);
console.log(`RESULT create: ${verdict(met)}`);
await writeJson(opts.json, { bench: 'create', date: new Date().toISOString(), environment: environment(), source, count, concurrency, results, ratio: { vsPut, vsBulk2, vsHttpPut }, met });
