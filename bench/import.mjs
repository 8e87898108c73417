/**
 * Bulk import: `$import` of the Synthea resources as NDJSON (one file per type, urn:uuid
 * references rewritten to Type/id), from the kick-off to the summary (every resource then
 * stored, indexed and searchable), against raw `bulkDocs` of the same resources into the
 * same encrypted PouchDB, 500 per call (the import's batch), one document each.
 *
 *   scripts/with-keyring.sh node bench/import.mjs [--copies 1] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * --copies N imports the corpus N times under new ids (N x 20,629 resources).
 * Target (issue 13): `flint import` of NDJSON >= 3,000 resources/s.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, environment, f0, f2, importParameters, keepAliveAgent, machineState, openBaselinePouch, options, request, runAsyncJob, startFlint, syntheaBundlePaths, table, tempDir, verdict, writeJson } from './lib.mjs';

const TARGET = 3000;
const opts = options({ copies: { type: 'string' } });
const copies = Number(opts.copies ?? 1);
const names = syntheaBundlePaths('import bench');
build(opts);

// NDJSON per type: every resource with its id, references to bundle entries as Type/id.
const out = tempDir('flint-bench-import-');
const byType = new Map();
let total = 0;
for (let c = 0; c < copies; c++) {
  for (const name of names) {
    const bundle = JSON.parse(readFileSync(name, 'utf8'));
    const ids = new Map(bundle.entry.map((e) => [e.fullUrl, `${e.resource.resourceType}/${c}-${e.resource.id}`]));
    for (const e of bundle.entry) {
      const text = JSON.stringify({ ...e.resource, id: `${c}-${e.resource.id}` }).replace(/"(urn:uuid:[0-9a-f-]+)"/g, (m, u) => (ids.has(u) ? `"${ids.get(u)}"` : m));
      const list = byType.get(e.resource.resourceType) ?? [];
      list.push(text);
      byType.set(e.resource.resourceType, list);
      total++;
    }
  }
}
mkdirSync(join(out, 'ndjson'));
for (const [type, lines] of byType) writeFileSync(join(out, 'ndjson', `${type}.ndjson`), `${lines.join('\n')}\n`);
console.log(`import bench: ${environment()}; ${f0(total)} resources in ${byType.size} NDJSON files (${copies} cop${copies === 1 ? 'y' : 'ies'} of ${names.length} Synthea bundles)`);

const results = {};
const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
try {
  const agent = keepAliveAgent(1);
  console.log(`  ${machineState()}`);
  const start = performance.now();
  const summary = await runAsyncJob(agent, flint, 'POST', '/fhir/$import', importParameters(join(out, 'ndjson')));
  const seconds = (performance.now() - start) / 1000;
  const written = summary.output.find((o) => o.type === 'written')?.count ?? 0;
  const refused = summary.error[0]?.count ?? 0;
  // Searchable when it finishes: a count over the index.
  const count = await request(agent, flint, 'GET', '/fhir/Observation?_summary=count', undefined, { accept: 'application/fhir+json' });
  const observations = JSON.parse(count.body.toString('utf8')).total;
  agent.destroy();
  results.flint = { written, refused, seconds, rps: written / seconds, observations, expectedObservations: byType.get('Observation')?.length ?? 0 };
  console.log(`  flint   ${f0(written)} written, ${refused} refused in ${f2(seconds)} s: ${f0(written / seconds)} resources/s; Observation count ${f0(observations)}`);
} finally {
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
}

{
  const { db, close } = await openBaselinePouch();
  try {
    const docs = [...byType.values()].flat().map((t) => {
      const r = JSON.parse(t);
      return { ...r, _id: `${r.resourceType}/${r.id}` };
    });
    console.log(`  ${machineState()}`);
    const start = performance.now();
    for (let i = 0; i < docs.length; i += 500) await db.bulkDocs(docs.slice(i, i + 500));
    const seconds = (performance.now() - start) / 1000;
    results.raw = { written: docs.length, seconds, rps: docs.length / seconds };
    console.log(`  raw     ${f0(docs.length)} documents by bulkDocs of 500 in ${f2(seconds)} s: ${f0(docs.length / seconds)} documents/s`);
  } finally {
    await close();
  }
}
rmSync(out, { recursive: true, force: true });

const ratio = results.raw.rps / results.flint.rps;
console.log(
  '\n' +
    table(
      [
        ['flint $import', f0(results.flint.written), f2(results.flint.seconds), f0(results.flint.rps)],
        ['raw bulkDocs', f0(results.raw.written), f2(results.raw.seconds), f0(results.raw.rps)],
      ],
      ['writer', 'resources', 'seconds', 'resources/s'],
    ),
);
const met = results.flint.rps >= TARGET && results.flint.refused === 0 && results.flint.observations === results.flint.expectedObservations;
console.log(`\nraw / flint: ${f2(ratio)}x\nTarget (issue 13): >= ${f0(TARGET)} resources/s, every resource written and searchable -> ${verdict(met)}`);
console.log(`RESULT import: ${verdict(met)}`);
await writeJson(opts.json, { bench: 'import', date: new Date().toISOString(), environment: environment(), copies, results, ratio, met });
