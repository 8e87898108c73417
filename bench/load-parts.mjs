/**
 * Splits the server main thread's busy time in a profiled bench/load.mjs run into the parts
 * of a request (validation, search-index update, audit, store SQL, HTTP, JSON, GC, ...),
 * per request and per write, for docs/benchmarks.md section 10 ("what limits writes").
 * bench/profile-summary.mjs lists functions; this answers "how many ms of the main thread
 * does one write cost, and in what".
 *
 *   flock /tmp/bench.lock scripts/with-keyring.sh node bench/load.mjs --no-build --cpu-prof DIR --json FILE
 *   node bench/load-parts.mjs DIR --json FILE
 *
 * The main thread's profile is the one with the most busy time. With --json (the bench's
 * figures), only the samples of the measured run count (its window in CLOCK_MONOTONIC
 * microseconds, the clock of both V8's profile and process.hrtime), and the per-request
 * and per-write columns divide by the run's requests and writes (creates, updates and
 * transactions). Each sample goes to the first part, in the order below, that any frame
 * of its stack belongs to, so nested work counts once: the audit record a write makes
 * before its commit is audit, the index catch-up the store runs after a commit is index.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO, f0, f1, f2, table } from './lib.mjs';

const { values, positionals } = parseArgs({ options: { json: { type: 'string' } }, allowPositionals: true });
const dir = positionals[0];
if (!dir) {
  console.error('usage: node bench/load-parts.mjs PROFILE_DIR [--json BENCH_JSON]');
  process.exit(2);
}

/** [part, test on one frame {fn, file}] in priority order; GC and (program) are leaf-only. */
const WRITE_ONLY = new Set(['validation', 'search-index update (indexer, rows, index COMMIT)', 'index rows handed to the receive worker', 'store BEGIN/COMMIT (encrypt + fsync)']);
const PARTS = [
  ['validation', (f) => f.file.includes('fhir/validation/')],
  ['audit (journal, chain into audit.db)', (f) => f.file.includes('main/core/audit/')],
  ['search-index update (indexer, rows, index COMMIT)', (f) => /search\/index\/(indexer|row-writer)\.ts/.test(f.file)],
  ['index rows handed to the receive worker', (f) => f.file.includes('sync/receive-pool.ts')],
  ['searches (criteria, index queries, bundles)', (f) => /main\/core\/search\/|fhir\/search-bundle\.ts|interactions\/search/.test(f.file)],
  ['store BEGIN/COMMIT (encrypt + fsync)', (f) => f.fn === 'exec' && f.caller?.includes('store/sqlite-websql.ts')],
  ['store other (PouchDB, SQL statements)', (f) => /main\/core\/store\/|pouchdb|better-sqlite3/.test(f.file)],
  ['auth (token, principal, access)', (f) => /main\/core\/auth\/|fhir\/access-guard/.test(f.file)],
  ['JSON (exact-json parse and stringify)', (f) => f.file.includes('exact-json.ts')],
  ['HTTP (parser, sockets, headers, body)', (f) => /main\/core\/http\/|node:_http|node:net|node:internal\/streams|stream_base_commons/.test(f.file) || f.fn === 'writev'],
  ['FHIR router and handlers, other', (f) => /main\/core\/fhir\/|shared\//.test(f.file)],
];

const maps = new Map();
function place(cf) {
  if (!cf.url) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  if (cf.url.startsWith('node:')) return cf.url;
  if (!maps.has(cf.url)) {
    let map;
    try {
      const path = fileURLToPath(cf.url);
      if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(cf.url, map);
  }
  const e = maps.get(cf.url)?.findEntry(cf.lineNumber, cf.columnNumber);
  if (e?.originalSource) return e.originalSource.replace(/^file:\/\//, '').replace(/^(\.\.\/)+/, '');
  return relative(REPO, cf.url.startsWith('file:') ? fileURLToPath(cf.url) : cf.url);
}

const files = statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)) : [dir];
const busyOf = (p) => {
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return p.timeDeltas.reduce((s, d, i) => (idleIds.has(p.samples[i]) ? s : s + d), 0);
};
const profiles = files.map((f) => ({ f, p: JSON.parse(readFileSync(f, 'utf8')) }));
const { f: mainFile, p: prof } = profiles.map((x) => ({ ...x, busy: busyOf(x.p) })).sort((a, b) => b.busy - a.busy)[0];
const bench = values.json ? JSON.parse(readFileSync(values.json, 'utf8')) : undefined;
const run = bench?.flint;
const window = bench?.window;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
for (const n of prof.nodes) n.frame = { fn: n.callFrame.functionName, file: place(n.callFrame) };
for (const n of prof.nodes) n.frame.caller = byId.get(parent.get(n.id))?.frame.file;
/** The part of a sample, memoized per leaf node. */
const partOf = new Map();
function part(node) {
  if (partOf.has(node.id)) return partOf.get(node.id);
  let found;
  if (node.frame.fn === '(garbage collector)') found = 'GC';
  else if (node.frame.fn === '(program)') found = '(program): V8 and native, no JS frame';
  else {
    const stack = [];
    for (let id = node.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id).frame);
    found = PARTS.find(([, test]) => stack.some(test))?.[0] ?? 'other (timers, microtasks, node internals)';
  }
  partOf.set(node.id, found);
  return found;
}

let t = prof.startTime;
let total = 0;
let idle = 0;
const ms = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  t += dt;
  if (window && (t < window.monoStartUs || t > window.monoEndUs)) continue;
  total += dt / 1000;
  const node = byId.get(prof.samples[i]);
  if (node.frame.fn === '(idle)') {
    idle += dt / 1000;
    continue;
  }
  const k = part(node);
  ms.set(k, (ms.get(k) ?? 0) + dt / 1000);
}
const busy = total - idle;
const writes = run ? ['create', 'update', 'transaction'].reduce((n, k) => n + (run.kinds[k]?.count ?? 0), 0) : undefined;
console.log(`main thread: ${relative(process.cwd(), mainFile)}`);
console.log(
  window
    ? `measured window only: ${f1(total / 1000)} s, busy ${f1(busy / 1000)} s (${f0((busy / total) * 100)}%); ${f0(run.requests)} requests (${f0(run.rps)}/s), ${f0(writes)} writes (${f0(writes / run.seconds)}/s)`
    : `whole profile (seed and warm-up included; pass --json for the measured window): ${f1(total / 1000)} s, busy ${f1(busy / 1000)} s`,
);
const rows = [...ms.entries()]
  .sort((a, b) => b[1] - a[1])
  .map(([k, v]) => [k, f0(v), `${f1((v / busy) * 100)}%`, ...(run ? [f2(v / run.requests), WRITE_ONLY.has(k) ? f2(v / writes) : '-'] : [])]);
rows.push(['busy', f0(busy), '100%', ...(run ? [f2(busy / run.requests), '-'] : [])]);
console.log(table(rows, ['part', 'ms', '% busy', ...(run ? ['ms per request', 'ms per write (write-only parts)'] : [])]));
