/**
 * Bulk export: GET [base]/$export of every resource of a store loaded with the Synthea
 * bundles (--copies times over: 5 copies ≈ 103,000 resources), from the kick-off to the
 * last byte of the last NDJSON file, against raw encrypted PouchDB reading the same number
 * of documents (the change feed with include_docs, pages of 2,000, each written as an NDJSON line),
 * in the same run.
 *
 *   scripts/with-keyring.sh node bench/export.mjs [--copies 5] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * Target (issue 13): $export of 100,000 resources >= 10,000 resources/s.
 */
import { readFileSync } from 'node:fs';
import {
  build,
  environment,
  f0,
  f1,
  f2,
  keepAliveAgent,
  machineState,
  openBaselinePouch,
  options,
  request,
  runAsyncJob,
  startFlint,
  syntheaBundlePaths,
  table,
  verdict,
  writeJson,
} from './lib.mjs';

const TARGET = 10_000;
const opts = options({ copies: { type: 'string' } });
const copies = Number(opts.copies ?? 5);
const paths = syntheaBundlePaths('export bench');
build(opts);
const bundles = paths.map((f) => readFileSync(f));
const perCopy = bundles.reduce((n, b) => n + JSON.parse(b.toString('utf8')).entry.length, 0);
console.log(`export bench: ${environment()}; ${bundles.length} Synthea bundles x ${copies} = ${f0(perCopy * copies)} resources`);

const results = {};
const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
try {
  const agent = keepAliveAgent(2);
  const json = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' };
  const t0 = performance.now();
  for (let c = 0; c < copies; c++) {
    // Two transactions in flight; every copy gets new server ids (the bundles POST with urn:uuid).
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < bundles.length) {
          const res = await request(agent, flint, 'POST', '/fhir', bundles[next++], json);
          if (res.status !== 200) throw new Error(`loading: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
        }
      }),
    );
  }
  console.log(`  loaded ${f0(perCopy * copies)} resources in ${f1((performance.now() - t0) / 1000)} s`);
  console.log(`  ${machineState()}`);

  const start = performance.now();
  const manifest = await runAsyncJob(agent, flint, 'GET', '/fhir/$export');
  const jobSeconds = (performance.now() - start) / 1000;
  let lines = 0;
  let bytes = 0;
  for (const o of manifest.output) {
    const f = await request(agent, flint, 'GET', new URL(o.url).pathname, undefined, { accept: 'application/fhir+ndjson' });
    if (f.status !== 200) throw new Error(`download: ${f.status}`);
    bytes += f.body.length;
    for (let i = f.body.indexOf(10); i >= 0; i = f.body.indexOf(10, i + 1)) lines++;
  }
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  results.flint = { resources: lines, bytes, files: manifest.output.length, jobSeconds, seconds, rps: lines / seconds };
  console.log(
    `  flint   ${f0(lines)} resources in ${manifest.output.length} files (${f1(bytes / 2 ** 20)} MiB): job ${f2(jobSeconds)} s, with downloads ${f2(seconds)} s: ${f0(lines / seconds)} resources/s`,
  );
} finally {
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
}

// Baseline: the same number of documents read back from raw encrypted PouchDB as NDJSON.
{
  const { db, close } = await openBaselinePouch();
  try {
    for (let c = 0; c < copies; c++) {
      for (const [k, b] of bundles.entries()) {
        const docs = JSON.parse(b.toString('utf8')).entry.map((e, i) => ({ ...e.resource, _id: `${c}/${k}/${i}` }));
        await db.bulkDocs(docs);
      }
    }
    console.log(`  ${machineState()}`);
    const start = performance.now();
    let n = 0;
    let bytes = 0;
    // The change feed in pages: PouchDB's cheapest bulk read here (allDocs pages count the
    // whole store on every call in websql-core, which makes them quadratic).
    let since = 0;
    for (;;) {
      const page = await db.changes({ since, include_docs: true, limit: 2000 });
      for (const r of page.results) {
        bytes += JSON.stringify(r.doc).length + 1;
        n++;
      }
      if (page.results.length < 2000) break;
      since = page.last_seq;
    }
    const seconds = (performance.now() - start) / 1000;
    results.raw = { resources: n, bytes, seconds, rps: n / seconds };
    console.log(`  raw     ${f0(n)} documents read from the change feed as NDJSON in ${f2(seconds)} s: ${f0(n / seconds)} documents/s`);
  } finally {
    await close();
  }
}

const ratio = results.raw.rps / results.flint.rps;
console.log(
  '\n' +
    table(
      [
        ['flint $export', f0(results.flint.resources), f2(results.flint.seconds), f0(results.flint.rps)],
        ['raw changes', f0(results.raw.resources), f2(results.raw.seconds), f0(results.raw.rps)],
      ],
      ['reader', 'resources', 'seconds', 'resources/s'],
    ),
);
const met = results.flint.rps >= TARGET && results.flint.resources >= perCopy * copies;
console.log(`\nraw / flint: ${f2(ratio)}x\nTarget (issue 13): >= ${f0(TARGET)} resources/s -> ${verdict(met)}`);
console.log(`RESULT export: ${verdict(met)}`);
await writeJson(opts.json, { bench: 'export', date: new Date().toISOString(), environment: environment(), copies, results, ratio, met });
