/**
 * Diagnostic, not a benchmark: the search index rebuild (what `flint reindex` runs) in this
 * process, on a data dir loaded once and kept, so that rebuilds of different code can be
 * compared on the same data without reloading (bench/search.mjs's reindex needs a 100,000-
 * resource load per keyring session).
 *
 *   node bench/diag-reindex.mjs --data-dir DIR [--resources 20000] [--runs 2] [--src DIR | --snapshot]
 *
 * A DIR without a store is first loaded with Synthea smart-2019 transactions, bundle after
 * bundle and over again (urn:uuid fullUrls: fresh ids each time) until it holds
 * --resources resources, by a workstation in this process. Its master key is kept in
 * DIR/../<name>.bench-secrets.json (test data only: no keychain needed, none touched).
 * Each run then opens the data dir as `flint reindex` does (cli/reindex.ts) and rebuilds the
 * index, with the index writer thread built beside the bundle, and prints changes/s and
 * resources/s, with the CPU time of the whole process (all its threads) and the load
 * average. --src / --snapshot as in diag-load.mjs. Profile with
 * `node --cpu-prof --cpu-prof-dir D bench/diag-reindex.mjs ...`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS, REPO, bundleFile, importFromSources, f0, f1, keepAliveAgent, request } from './lib.mjs';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, resources: { type: 'string' }, runs: { type: 'string' }, src: { type: 'string' }, snapshot: { type: 'boolean' } },
});
if (!values['data-dir']) throw new Error('--data-dir DIR is required');
const dataDir = resolve(values['data-dir']);
const wanted = Number(values.resources ?? 20000);
const runs = Number(values.runs ?? 2);
let src = values.src ? resolve(values.src) : REPO;
if (values.snapshot) {
  src = join(tmpdir(), `flint-bench-snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  for (const d of ['main', 'shared']) cpSync(join(REPO, d), join(src, d), { recursive: true });
}
console.log(`source: ${src === REPO ? 'main/ as it is now' : src}`);

// The bundle and the index writer thread's script side by side (builtWorkerFile looks there).
const tag = src === REPO ? 'repo' : basename(src);
const outDir = join(REPO, 'bench/.build', `reindex-${tag}`);
mkdirSync(outDir, { recursive: true });
await bundleFile(join(src, 'main/core/search/index/index-writer-worker.ts'), join(outDir, 'index-writer-worker.js'));
const m = await importFromSources(
  src,
  {
    'main/core/app': ['startWorkstation'],
    'main/core/store/data-dir': ['openDataDir'],
    'main/core/auth/accounts': ['openAccounts'],
    'main/core/auth/principal': ['CLI_CLIENT_ID', 'CLI_SUBJECT'],
    'main/core/store/encrypted-pouch': ['openEncryptedPouch'],
    'main/core/fhir/definitions': ['loadDefinitions'],
    'main/core/search/open-search-index': ['openSearchIndex'],
    'main/core/search/custom-params': ['reindex'],
  },
  `reindex-${tag}/app.mjs`,
);

const secretsFile = join(dirname(dataDir), `${basename(dataDir)}.bench-secrets.json`);
const saved = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, 'utf8')) : {};
const secrets = {
  get: async (a) => saved[a] ?? null,
  set: async (a, v) => {
    saved[a] = v;
    writeFileSync(secretsFile, JSON.stringify(saved), { mode: 0o600 });
  },
  delete: async (a) => delete saved[a],
};
// Startup and token signing await WebCrypto, which does not keep the event loop alive by itself.
const keep = setInterval(() => undefined, 1000);

if (!existsSync(join(dataDir, 'store.db'))) await load();

for (let run = 1; run <= runs; run++) {
  const dir = await m.openDataDir(dataDir, secrets);
  const db = await m.openEncryptedPouch({ file: dir.storeFile('store'), key: dir.purposeKey('store') });
  const search = m.openSearchIndex(dir, db, m.loadDefinitions());
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { processed, resources } = await m.reindex(search, db, m.loadDefinitions());
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const c0 = performance.now();
  await search.close(); // the last connection's close checkpoints what is left in the WAL
  const closing = (performance.now() - c0) / 1000;
  await db.close();
  await dir.release();
  console.log(`run ${run}: ${f0(processed)} changes, ${f0(resources)} resources in ${f1(s)} s: ${f0(resources / s)} resources/s (${f0(processed / s)} changes/s)`);
  // CPU of every thread of this process (the writer and checkpoint threads included): what a
  // change costs, whatever else the machine was doing; and the load it ran under.
  console.log(`  cpu ${f1((cpu.user + cpu.system) / 1e6)} s (user ${f1(cpu.user / 1e6)}, system ${f1(cpu.system / 1e6)}), closing the index ${f1(closing)} s, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
clearInterval(keep);

async function load() {
  const ws = await m.startWorkstation({ dataDir, port: 0, secrets, log: () => undefined });
  const url = new URL(ws.baseUrl);
  const shared = await m.openDataDir(dataDir, secrets, { shared: true });
  const accounts = m.openAccounts(shared);
  const { token } = await accounts.tokens.issueAccess({ sub: m.CLI_SUBJECT, client_id: m.CLI_CLIENT_ID, scope: 'user/*.cruds' }, 86400);
  accounts.close();
  await shared.release();
  const target = { host: url.hostname, port: Number(url.port), token };
  const corpus = join(CORPUS, 'synthea/smart-2019');
  const files = readdirSync(corpus).filter((f) => f.endsWith('.json')).sort();
  const agent = keepAliveAgent(1);
  const t0 = performance.now();
  let loaded = 0;
  for (let i = 0; loaded < wanted; i++) {
    const bytes = readFileSync(join(corpus, files[i % files.length]));
    const res = await request(agent, target, 'POST', '/fhir', bytes, { 'content-type': 'application/fhir+json', prefer: 'return=minimal' });
    if (res.status !== 200) throw new Error(`${files[i % files.length]}: ${res.status}`);
    loaded += JSON.parse(bytes.toString()).entry.length;
  }
  agent.destroy();
  await ws.close();
  console.log(`loaded ${f0(loaded)} resources in ${f1((performance.now() - t0) / 1000)} s`);
}
