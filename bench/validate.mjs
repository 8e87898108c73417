/**
 * Validation alone, on one core: every resource of the Synthea smart-2019 bundles validated
 * in a plain loop in this process (no server, no keychain) by
 *   medplum   @medplum/core validateResource with Flint's second opinions (the baseline,
 *             main/core/fhir/validation/compiled/medplum-reference.ts), same run;
 *   compiled  the compiled validator (main/core/fhir/validation/compiled/);
 *   flint     what every write runs (validation/validator.ts: the compiled validator plus
 *             json-rules, bindings, narrative, attachments and bundle-rules);
 *   fhirpath  the compiled validator with every invariant through fhirpath.js (the native
 *             checks off), once: what the native checks buy.
 * Also the cold cost: building the compiled validator, the very first resource, and the
 * first resource of each type for a fresh validator (its tables compiled on first use)
 * against the same resource once compiled.
 *
 *   node bench/validate.mjs [--rounds 3] [--json FILE]
 *
 * The TypeScript is bundled with esbuild into bench/.build/. Rounds alternate the
 * validators; the figure kept for each is its best round (least disturbed by others on a
 * shared machine). Target (issue 12): validation as a write runs it (`flint`) >= 10,000 resources/s.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, REPO, environment, importFromSources, f0, f1, f2, f3, machineState, options, table, verdict, writeJson } from './lib.mjs';

const opts = options({ rounds: { type: 'string' } });
const rounds = Number(opts.rounds ?? 3);

const m = await importFromSources(
  REPO,
  {
    'main/core/fhir/validation/compiled/compiled-validator': ['createCompiledValidator'],
    'main/core/fhir/validation/compiled/core-definitions': ['coreStructureDefinitions'],
    'main/core/fhir/validation/compiled/medplum-reference': ['createMedplumValidator'],
    'main/core/fhir/validation/validator': ['createValidator'],
  },
  'validate.mjs',
);

console.log(environment());
console.log(machineState());

const dir = join(CORPUS, 'synthea', 'smart-2019');
const resources = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  for (const e of JSON.parse(readFileSync(join(dir, f), 'utf8')).entry ?? []) if (e.resource) resources.push(e.resource);
}
console.log(`${f0(resources.length)} Synthea resources`);

const bundles = m.coreStructureDefinitions();

// Cold: building the validator, and the very first resource (its type's tables, the JIT).
let t = performance.now();
const compiled = m.createCompiledValidator(bundles);
const buildMs = performance.now() - t;
t = performance.now();
compiled.validate(resources[0]);
const veryFirstMs = performance.now() - t;

t = performance.now();
const medplum = m.createMedplumValidator(bundles);
const medplumIndexMs = performance.now() - t;
const flint = m.createValidator();
const fhirpathOnly = m.createCompiledValidator(bundles, { natives: false });

function pass(validate) {
  let errors = 0;
  const t0 = performance.now();
  for (const r of resources) {
    for (const i of validate(r)) if (i.severity === 'error' || i.severity === 'fatal') errors++;
  }
  const ms = performance.now() - t0;
  return { perSecond: resources.length / (ms / 1000), usPerResource: (ms * 1000) / resources.length, errors };
}

const runs = {
  medplum: (r) => medplum(r),
  compiled: (r) => compiled.validate(r),
  flint: (r) => flint.validate(r),
};
// One warm-up pass each (JIT, Medplum's schema cache, the remaining types compiled).
for (const v of Object.values(runs)) pass(v);
const best = {};
for (let k = 0; k < rounds; k++) {
  const order = k % 2 === 0 ? ['medplum', 'compiled', 'flint'] : ['flint', 'compiled', 'medplum'];
  for (const name of order) {
    const r = pass(runs[name]);
    console.log(`round ${k + 1} ${name.padEnd(8)} ${f0(r.perSecond)} resources/s`);
    if (!best[name] || r.perSecond > best[name].perSecond) best[name] = r;
  }
}
pass((r) => fhirpathOnly.validate(r));
best.fhirpath = pass((r) => fhirpathOnly.validate(r));

// The first resource of each type for a fresh validator (the walk's code already warm):
// what compiling a type's tables costs, against the same resource once compiled.
const fresh = m.createCompiledValidator(bundles);
const firstOfType = new Map();
for (const r of resources) if (!firstOfType.has(r.resourceType)) firstOfType.set(r.resourceType, r);
const cold = [];
for (const [type, r] of firstOfType) {
  t = performance.now();
  fresh.validate(r);
  const first = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 20; i++) fresh.validate(r);
  cold.push({ type, firstMs: first, warmMs: (performance.now() - t) / 20 });
}
cold.sort((a, b) => b.firstMs - a.firstMs);

console.log('');
console.log(
  table(
    Object.entries(best).map(([name, r]) => [name, f0(r.perSecond), f1(r.usPerResource), f2(r.perSecond / best.medplum.perSecond), r.errors]),
    ['validator', 'resources/s', 'µs/resource', 'x medplum', 'errors'],
  ),
);
console.log('');
console.log(`cold: building the compiled validator ${f1(buildMs)} ms (definitions already parsed); Medplum indexing the same ${f1(medplumIndexMs)} ms`);
console.log(`the very first resource (${resources[0].resourceType}: its tables, and the JIT still cold): ${f1(veryFirstMs)} ms`);
console.log('first resource of a type for a fresh validator (its tables compiled on first use) vs the same resource warm, slowest five:');
console.log(table(cold.slice(0, 5).map((c) => [c.type, f2(c.firstMs), f3(c.warmMs)]), ['type', 'first ms', 'warm ms']));
const coldTotal = cold.reduce((s, c) => s + c.firstMs, 0);
console.log(`all ${cold.length} types' first resources: ${f1(coldTotal)} ms in all`);
// The target is on validation as a write runs it: the compiled walk and every rule beside it.
const met = best.flint.perSecond >= 10_000;
console.log(`target: everything a write runs >= 10,000 resources/s on one core: ${verdict(met)}`);

await writeJson(opts.json, {
  resources: resources.length,
  rounds,
  best,
  cold: { buildMs, medplumIndexMs, veryFirstMs, coldTotalMs: coldTotal, slowest: cold.slice(0, 5) },
  met,
});
