/**
 * Runs every benchmark, one after the other (they would disturb each other's figures if
 * run together on 2 cores), after one build. `npm run bench` runs this.
 *
 *   scripts/with-keyring.sh npm run bench                 # full run (2-3 minutes, plus search's 100,000-resource load, and sync's and ui's 100,000-resource initial syncs)
 *   scripts/with-keyring.sh npm run bench -- --quick      # smoke run: short phases, 10 bundles, search on 5,000 resources, sync and ui on 2,000
 *   scripts/with-keyring.sh npm run bench -- --strict     # exit 1 if a target is missed
 *   scripts/with-keyring.sh npm run bench -- --only read,create
 *
 * Each bench's figures are also written as JSON to bench/results/<name>.json (git-ignored).
 * A bench that crashes makes the run exit 1; a missed target only with --strict.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, build } from './lib.mjs';

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, strict: { type: 'boolean' }, only: { type: 'string' }, 'no-build': { type: 'boolean' } },
});

const BENCHES = [
  ['read', 'bench/read.mjs', values.quick ? ['--seconds', '1', '--warmup', '100'] : []],
  ['create', 'bench/create.mjs', values.quick ? ['--count', '300'] : []],
  ['synthea-load', 'bench/synthea-load.mjs', values.quick ? ['--limit', '10'] : []],
  ['validate', 'bench/validate.mjs', values.quick ? ['--rounds', '1'] : []],
  ['export', 'bench/export.mjs', values.quick ? ['--copies', '1'] : []],
  ['import', 'bench/import.mjs', []],
  ['search', 'bench/search.mjs', values.quick ? ['--quick'] : []],
  ['sync', 'bench/sync.mjs', values.quick ? ['--quick'] : []],
  ['ui', 'bench/ui.mjs', values.quick ? ['--quick'] : []],
  ['load', 'bench/load.mjs', values.quick ? ['--seconds', '10', '--baseline-seconds', '3', '--bundles', '3', '--patients', '50'] : []],
  ['cold-start', 'bench/cold-start.mjs', values.quick ? ['--resources', '5000', '--runs', '1', '--load-seconds', '5'] : []],
];
const only = values.only?.split(',');
const resultsDir = join(REPO, 'bench/results');
mkdirSync(resultsDir, { recursive: true });

build(values);
const summary = [];
let crashed = false;
for (const [name, script, args] of BENCHES) {
  if (only && !only.includes(name)) continue;
  console.log(`\n=== ${name} ${'='.repeat(70 - name.length)}`);
  const t0 = performance.now();
  let out = '';
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, script), '--no-build', '--json', join(resultsDir, `${name}.json`), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.once('exit', (c) => resolve(c));
  });
  const verdict = /RESULT \S+: (\w+)/.exec(out)?.[1] ?? (code === 0 ? 'SKIPPED' : 'CRASHED');
  if (code !== 0) crashed = true;
  summary.push([name, verdict, `${((performance.now() - t0) / 1000).toFixed(0)} s`]);
}

console.log(`\n=== summary ${'='.repeat(63)}`);
for (const [name, verdict, took] of summary) console.log(`  ${name.padEnd(14)} ${verdict.padEnd(8)} (${took})`);
console.log(`JSON figures in ${resultsDir}`);
if (crashed || (values.strict && summary.some(([, v]) => v !== 'MET'))) process.exitCode = 1;
