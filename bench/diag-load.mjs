/**
 * Diagnostic, not a benchmark: which SQL statements the store spends its time in while
 * Synthea bundles are loaded, and what-if switches that estimate what a fix would buy.
 * Runs a workstation in this process (main/core/app.ts bundled with esbuild; an in-memory
 * secret store, so no keychain is needed), times every better-sqlite3 statement, exec and
 * pragma, and prints the heaviest statement texts.
 *
 *   node bench/diag-load.mjs [--limit 30] [--top 15] [--what-if LIST] [--snapshot | --src DIR]
 *
 * main/ changes under one's feet while others work: --snapshot copies main/ and shared/ to
 * $TMPDIR/flint-bench-snapshot-<time>/ (outside the repo, so that neither tsc nor vitest
 * sees the copy) and measures it (its path is printed); --src DIR measures an earlier
 * snapshot again, so what-if runs compare the same code.
 *
 * --what-if (comma-separated; each only simulates a fix, main/ is not changed):
 *   no-count       PouchDB allDocs' total_rows COUNT over the whole store answers 0 at once
 *   no-checkpoint  the WAL checkpoint is skipped (as if run off the main thread)
 *   no-validate    the R4 validator accepts everything without looking
 *   normal-sync    synchronous=NORMAL instead of FULL (no fsync per COMMIT; NOT durable)
 */
import { cpSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS, REPO, f0, importFromSources, f1, f3, keepAliveAgent, request, table, tempDir } from './lib.mjs';

const { values } = parseArgs({
  options: { limit: { type: 'string' }, top: { type: 'string' }, 'what-if': { type: 'string' }, snapshot: { type: 'boolean' }, src: { type: 'string' } },
});
let src = values.src ? resolve(values.src) : REPO;
if (values.snapshot) {
  src = join(tmpdir(), `flint-bench-snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  for (const d of ['main', 'shared']) cpSync(join(REPO, d), join(src, d), { recursive: true });
}
console.log(`source: ${src === REPO ? 'main/ as it is now' : src}`);
const whatIf = new Set((values['what-if'] ?? '').split(',').filter(Boolean));
for (const w of whatIf) {
  if (!['no-count', 'no-checkpoint', 'no-validate', 'normal-sync'].includes(w)) throw new Error(`unknown --what-if ${w}`);
}
const limit = Number(values.limit ?? 30);
const TOP = Number(values.top ?? 15);

// Time every statement, exec and pragma of better-sqlite3 (the store's only SQLite).
const Database = createRequire(join(REPO, 'package.json'))('better-sqlite3-multiple-ciphers');
const stats = new Map();
const norm = (sql) => sql.replace(/\(\s*\?(\s*,\s*\?)*\s*\)/g, '(?…)').replace(/\b\d+\b/g, 'N').replace(/\s+/g, ' ').slice(0, 150);
let txKind = '?';
let depth = 0; // pragma() and exec() prepare statements of their own: count those once
const record = (sql, ms, rows = 0) => {
  if (depth > 0) return;
  const k = norm(sql);
  const s = stats.get(k) ?? { n: 0, ms: 0, max: 0, rows: 0 };
  s.n++;
  s.ms += ms;
  s.rows += rows;
  s.max = Math.max(s.max, ms);
  stats.set(k, s);
};
{
  const probe = new Database(':memory:');
  const Stmt = Object.getPrototypeOf(probe.prepare('SELECT 1'));
  probe.close();
  for (const m of ['all', 'run', 'get']) {
    const orig = Stmt[m];
    Stmt[m] = function (...args) {
      const t = performance.now();
      const r = orig.apply(this, args);
      record(this.source, performance.now() - t, Array.isArray(r) ? r.length : 0);
      return r;
    };
  }
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql, ...rest) {
    if (whatIf.has('no-count') && /^SELECT COUNT\('document-store'\.id\) AS 'num'/.test(sql)) sql = "SELECT 0 AS 'num'";
    return prepare.call(this, sql, ...rest);
  };
  for (const m of ['exec', 'pragma']) {
    const orig = Database.prototype[m];
    Database.prototype[m] = function (sql, ...rest) {
      if (m === 'pragma' && whatIf.has('no-checkpoint') && sql.includes('wal_checkpoint')) return [];
      if (m === 'pragma' && whatIf.has('normal-sync') && /^synchronous\s*=\s*FULL$/i.test(sql.trim())) sql = 'synchronous = NORMAL';
      const t = performance.now();
      depth++;
      try {
        return orig.call(this, sql, ...rest);
      } finally {
        depth--;
        if (/^BEGIN/i.test(sql)) txKind = /IMMEDIATE|EXCLUSIVE/i.test(sql) ? 'write' : 'read';
        record(`${m}: ${sql}${/^COMMIT/i.test(sql) ? ` (${txKind} transaction)` : ''}`, performance.now() - t);
      }
    };
  }
}

const noValidate = whatIf.has('no-validate')
    ? [
        {
          name: 'no-validate',
          setup(b) {
            b.onLoad({ filter: /validation[\\/]validator\.ts$/ }, () => ({
              loader: 'ts',
              contents:
                'export const createValidator = () => ({ validate: () => [] });\n' +
                "export const hasErrors = (issues: Array<{ severity?: string }>) => issues.some((i) => i.severity === 'error' || i.severity === 'fatal');\n" +
                'export const errorReasons = (issues: Array<{ diagnostics?: string }>) => issues.map((i) => i.diagnostics ?? \'invalid\');\n',
            }));
          },
        },
      ]
    : [];
// One bundle for the workstation and what mints its bearer token (as `flint token create`).
const { startWorkstation, openDataDir, openAccounts, CLI_CLIENT_ID, CLI_SUBJECT } = await importFromSources(
  src,
  {
    'main/core/app': ['startWorkstation'],
    'main/core/store/data-dir': ['openDataDir'],
    'main/core/auth/accounts': ['openAccounts'],
    'main/core/auth/principal': ['CLI_CLIENT_ID', 'CLI_SUBJECT'],
  },
  'app.mjs',
  noValidate,
);
const secrets = new Map();
const memorySecrets = {
  get: async (a) => secrets.get(a) ?? null,
  set: async (a, v) => void secrets.set(a, v),
  delete: async (a) => secrets.delete(a),
};

// Startup and token signing await WebCrypto, which does not keep the event loop alive by itself.
const keep = setInterval(() => undefined, 1000);
const dataDir = tempDir('flint-diag-');
const ws = await startWorkstation({ dataDir, port: 0, secrets: memorySecrets, log: () => undefined });
const url = new URL(ws.baseUrl);
const shared = await openDataDir(dataDir, memorySecrets, { shared: true });
const accounts = openAccounts(shared);
const { token } = await accounts.tokens.issueAccess({ sub: CLI_SUBJECT, client_id: CLI_CLIENT_ID, scope: 'user/*.cruds' }, 86400);
accounts.close();
await shared.release();
const target = { host: url.hostname, port: Number(url.port), token };
const dir = join(CORPUS, 'synthea/smart-2019');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().slice(0, limit);
const agent = keepAliveAgent(1);
stats.clear();
let resources = 0;
const t0 = performance.now();
const perBundle = [];
for (const f of files) {
  const bytes = readFileSync(join(dir, f));
  const n = JSON.parse(bytes.toString()).entry.length;
  const s = performance.now();
  const res = await request(agent, target, 'POST', '/fhir', bytes, {
    'content-type': 'application/fhir+json',
    prefer: 'return=minimal',
  });
  if (res.status !== 200) throw new Error(`${f}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  perBundle.push({ n, ms: performance.now() - s });
  resources += n;
}
const wall = performance.now() - t0;
agent.destroy();
await ws.close();
rmSync(dataDir, { recursive: true, force: true });
clearInterval(keep);

const sqlMs = [...stats.values()].reduce((a, s) => a + s.ms, 0);
console.log(`what-if: ${[...whatIf].join(', ') || 'none (as built)'}`);
console.log(`${files.length} bundles, ${f0(resources)} resources in ${f0(wall)} ms (${f0((resources / wall) * 1000)} resources/s); SQLite time ${f0(sqlMs)} ms (${f1((sqlMs / wall) * 100)}% of wall)`);
const q = Math.ceil(perBundle.length / 3);
for (const [label, part] of [['first third', perBundle.slice(0, q)], ['last third', perBundle.slice(-q)]]) {
  const n = part.reduce((a, p) => a + p.n, 0);
  const ms = part.reduce((a, p) => a + p.ms, 0);
  console.log(`  ${label}: ${f0((n / ms) * 1000)} resources/s`);
}
const rows = [...stats.entries()]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, TOP)
  .map(([k, s]) => [k, f0(s.n), f0(s.ms), f3(s.ms / s.n), f1(s.max), f0(s.rows / s.n)]);
console.log('\n' + table(rows, ['statement', 'calls', 'total ms', 'mean ms', 'max ms', 'rows/call']));
