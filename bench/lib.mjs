/**
 * Shared helpers for the benchmarks in bench/: building, starting a Flint server, a
 * closed-loop HTTP load generator over keep-alive node:http agents, percentiles,
 * the encrypted PouchDB baseline, and printing.
 *
 * Everything is loopback only and bounded in time; nothing here needs tsx. TypeScript
 * from main/ (openEncryptedPouch) is bundled on the fly with esbuild into bench/.build/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const CORPUS = resolve(process.env.FLINT_CORPUS ?? join(REPO, '..', 'shared', 'fhir-corpus'));

/** Command-line options common to every bench, plus the bench's own. */
export function options(own = {}) {
  const { values } = parseArgs({
    options: {
      'no-build': { type: 'boolean' },
      'cpu-prof': { type: 'string' }, // directory: run the server under node --cpu-prof
      json: { type: 'string' }, // write the figures to this file as JSON
      ...own,
    },
    allowPositionals: false,
  });
  return values;
}

/** Rebuilds dist/ (others edit main/ meanwhile) unless --no-build or BENCH_NO_BUILD=1. */
export function build(opts = {}) {
  if (opts['no-build'] || process.env.BENCH_NO_BUILD === '1') return;
  const r = spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error('build failed');
  }
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Follows a spawned `flint serve`: its output so far, its exit (code or signal), and its FHIR
 * base URL once it prints "listening at" (rejected if it exits first or takes over 60 s).
 */
export function watchServer(proc) {
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => proc.once('exit', (code, signal) => r(code ?? signal)));
  const listening = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`flint did not start within 60 s:\n${out}`)), 60_000);
    proc.stdout.on('data', () => {
      const m = /listening at (http:\/\/\S+\/fhir)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`flint exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { output: () => out, exited, listening };
}

/**
 * Starts `node bin/flint.js serve` on a fresh data dir and port 0. The keychain must be
 * reachable (on a headless box: run the bench under scripts/with-keyring.sh). With cpuProfDir, the
 * server runs under --cpu-prof and writes its profile there on a clean stop. With dataDir, the
 * server opens that dir instead of a fresh one, and stop() leaves it in place (the caller owns it).
 */
export async function startFlint({ cpuProfDir, dataDir: givenDataDir, args = [] } = {}) {
  const dataDir = givenDataDir ?? tempDir('flint-bench-');
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfDir)}`] : [];
  const proc = spawn(process.execPath, [...nodeArgs, join(REPO, 'bin/flint.js'), 'serve', '--data-dir', dataDir, '--port', '0', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, exited, listening } = watchServer(proc);
  const baseUrl = await listening;
  const url = new URL(baseUrl);
  // Every FHIR request needs a bearer token: mint one as an integrator would.
  const token = await mintToken(dataDir);
  return {
    baseUrl,
    host: url.hostname,
    port: Number(url.port),
    token,
    dataDir,
    pid: proc.pid,
    output,
    async stop() {
      const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const code = await exited;
      clearTimeout(killer);
      if (givenDataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** A bare node:http server in this process answering every request with the given bytes and headers. */
export async function startBare(status, headers, body) {
  const server = http.createServer((req, res) => {
    // Drain any request body, then answer with the captured response.
    req.resume();
    req.on('end', () => {
      res.writeHead(status, headers);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: '127.0.0.1',
    port: server.address().port,
    stop: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The same bare server in its own process (as Flint is), for an apples-to-apples check. */
export async function startBareChild(status, headers, body) {
  const dir = tempDir('flint-bench-bare-');
  const spec = join(dir, 'reply.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(spec, JSON.stringify({ status, headers, body: body.toString('base64') }));
  return startChildServer('bench/bare-server.mjs', [spec], dir);
}

/**
 * bench/put-server.mjs in its own process: HTTP creates, each one encrypted `put` and
 * nothing else (the floor of any create over HTTP on this stack).
 */
export async function startPutChild() {
  await importEncryptedPouch(); // bundles bench/.build/encrypted-pouch.mjs
  const dir = tempDir('flint-bench-put-');
  return startChildServer('bench/put-server.mjs', [join(REPO, 'bench/.build/encrypted-pouch.mjs'), dir], dir);
}

/** A bench server script in a child process that prints "port N"; stop() ends it and removes `dir`. */
async function startChildServer(script, args, dir) {
  const proc = spawn(process.execPath, [join(REPO, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => proc.once('exit', r));
  const port = await new Promise((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    exited.then(() => fail(new Error('bare server exited')));
  });
  return {
    host: '127.0.0.1',
    port,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Synthea smart-2019 bundle files of the corpus, sorted, as paths. A bench without the
 * corpus says so and stops: skipped, except under CI=true, where that is a failure.
 */
export function syntheaBundlePaths(bench) {
  const dir = join(CORPUS, 'synthea/smart-2019');
  if (!existsSync(dir)) {
    console.error(`${bench}: corpus not found at ${dir} (set FLINT_CORPUS): skipped`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** An all-scopes administrator token for a data dir (`flint token create`). */
export async function mintToken(dataDir) {
  const proc = spawn(process.execPath, [join(REPO, 'bin/flint.js'), 'token', 'create', '--scope', 'user/*.cruds', '--ttl', '1d', '--data-dir', dataDir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`flint token create failed (${code}): ${err}`);
  return out.trim();
}

/**
 * One request over an agent; resolves with { status, headers, body: Buffer }. A target
 * with a `token` (a Flint server) gets it as the bearer token; bare servers have none.
 */
export function request(agent, { host, port, token }, method, path, body, headers = {}) {
  if (token) headers = { authorization: `Bearer ${token}`, ...headers };
  return new Promise((ok, fail) => {
    const req = http.request({ agent, host, port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** The `$import` kick-off body for one folder of NDJSON files (the shape the Azure FHIR service takes). */
export function importParameters(dir) {
  return JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
      { name: 'input', part: [{ name: 'url', valueUri: pathToFileURL(dir).href }] },
    ],
  });
}

/**
 * A bulk job (`$export`, `$import`) through the async pattern: the kick-off (202 with
 * Content-Location), then the status polled every `pollMs` until it is done. Resolves with
 * the parsed manifest or summary; throws on any other answer.
 */
export async function runAsyncJob(agent, target, method, path, body, { pollMs = 100 } = {}) {
  const headers = { accept: 'application/fhir+json', prefer: 'respond-async', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) };
  const kick = await request(agent, target, method, path, body, headers);
  if (kick.status !== 202) throw new Error(`${path} kick-off: ${kick.status} ${kick.body.toString('utf8').slice(0, 300)}`);
  const statusPath = new URL(kick.headers['content-location']).pathname;
  for (;;) {
    const status = await request(agent, target, 'GET', statusPath, undefined, { accept: 'application/fhir+json' });
    if (status.status === 200) return JSON.parse(status.body.toString('utf8'));
    if (status.status !== 202) throw new Error(`${path} status: ${status.status} ${status.body.toString('utf8').slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function keepAliveAgent(connections) {
  return new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
}

/**
 * Closed-loop load: `connections` workers over one keep-alive agent, each sending the next
 * request as soon as its previous one is answered. Stops at `count` requests or after
 * `seconds`, whichever comes first; `warmup` requests are sent first and not counted.
 * `make(i)` returns { method, path, body, headers, expect } for request i.
 */
export async function load(target, { connections, count = Infinity, seconds = 10, warmup = 0, make }) {
  const agent = keepAliveAgent(connections);
  try {
    // Warm-up also opens the sockets.
    let w = 0;
    await Promise.all(
      Array.from({ length: Math.min(connections, Math.max(warmup, 1)) }, async () => {
        while (w < warmup) {
          const r = make(-1 - w++);
          await expectStatus(await request(agent, target, r.method, r.path, r.body, r.headers), r.expect);
        }
      }),
    );
    const lat = [];
    let sent = 0;
    let errors = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < count && performance.now() < deadline) {
          const r = make(sent++);
          const s = performance.now();
          const res = await request(agent, target, r.method, r.path, r.body, r.headers);
          lat.push(performance.now() - s);
          if (res.status !== r.expect) {
            if (errors++ === 0) process.stderr.write(`unexpected status ${res.status}: ${res.body.toString().slice(0, 300)}\n`);
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    return withSamples({ ...summarize(lat), requests: lat.length, errors, seconds: elapsed, rps: lat.length / elapsed }, lat);
  } finally {
    agent.destroy();
  }
}

async function expectStatus(res, expect) {
  if (res.status !== expect) throw new Error(`warm-up: expected ${expect}, got ${res.status}: ${res.body.toString().slice(0, 500)}`);
  return res;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * fdatasync()s per second of 4 KiB appends in the temp dir, for `seconds`: the disk's
 * durable-write rate, which bounds every synchronous=FULL commit. Printed with the figures
 * because on a shared VM it drifts (seen here: 3x between runs minutes apart).
 */
export function fsyncProbe(seconds = 0.5) {
  const dir = tempDir('flint-bench-fsync-');
  const fd = openSync(join(dir, 'probe'), 'a');
  const block = Buffer.alloc(4096, 7);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    writeSync(fd, block);
    fdatasyncSync(fd);
    n++;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

/** Keeps the raw latencies on a result without putting them in its JSON. */
function withSamples(result, samples) {
  return Object.defineProperty(result, 'samples', { value: samples, enumerable: false });
}

/**
 * CPU available to this process: MB/s of SHA-256 over a fixed buffer for `seconds`. About
 * 1,100 MB/s on an idle core of this machine (SHA extensions); lower means others are using the CPUs.
 */
export function cpuProbe(seconds = 0.2) {
  const buf = Buffer.alloc(1 << 20, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    createHash('sha256').update(buf).digest();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** One line on how busy the machine is: load average, CPU and disk probes. */
export function machineState() {
  return `load ${loadavg()[0].toFixed(2)}, cpu probe ${Math.round(cpuProbe())} MB/s, disk ${Math.round(fsyncProbe(0.25)).toLocaleString('en-US')} fdatasync/s`;
}

/** p50/p95/p99/max/mean of a list of milliseconds. */
export function summarize(ms) {
  const s = Float64Array.from(ms).sort();
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { p50: q(50), p95: q(95), p99: q(99), max: s.length ? s[s.length - 1] : NaN, mean };
}

/** Bundles main/core/store/encrypted-pouch.ts (npm packages external) and imports it. */
let encryptedPouchModule;
export async function importEncryptedPouch() {
  encryptedPouchModule ??= bundleAndImportEncryptedPouch();
  return encryptedPouchModule;
}

async function bundleAndImportEncryptedPouch() {
  return bundleAndImport(join(REPO, 'main/core/store/encrypted-pouch.ts'), 'encrypted-pouch.mjs');
}

/**
 * Bundles a TypeScript entry of main/ (npm packages external) into bench/.build/ and
 * imports it. Source maps let bench/profile-summary.mjs map profiles back to main/.
 */
export async function bundleAndImport(entry, name, plugins = []) {
  const outfile = join(REPO, 'bench/.build', name);
  await bundleFile(entry, outfile, plugins);
  return import(pathToFileURL(outfile).href);
}

/**
 * Bundles the named exports of TypeScript modules under `root` (a source tree: REPO, or a
 * copy of it to compare) into bench/.build/<name> and imports them.
 * `modules`: module path (from root, no extension) -> the names it exports.
 */
export async function importFromSources(root, modules, name, plugins = []) {
  const entry = join(REPO, 'bench/.build', name.replace(/\.mjs$/, '-entry.ts'));
  mkdirSync(dirname(entry), { recursive: true });
  const lines = Object.entries(modules).map(([module, names]) => `export { ${names.join(', ')} } from ${JSON.stringify(join(root, module))};`);
  writeFileSync(entry, lines.join('\n'));
  return bundleAndImport(entry, name, plugins);
}

/** Bundles a TypeScript entry (npm packages external, source map) into `outfile`. */
export async function bundleFile(entry, outfile, plugins = []) {
  const { build: esbuild } = await import('esbuild');
  await esbuild({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    plugins,
  });
}

/** A fresh encrypted PouchDB (same adapter, pragmas and shim as Flint's store) with a random key. */
export async function openBaselinePouch() {
  const { openEncryptedPouch } = await importEncryptedPouch();
  const dir = tempDir('flint-bench-pouch-');
  const db = await openEncryptedPouch({ file: join(dir, 'store.db'), key: randomBytes(32) });
  return {
    db,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `worker(i)` for i in [0, count) with `concurrency` in flight; returns per-call ms. */
export async function pool(count, concurrency, worker, seconds = Infinity) {
  const lat = [];
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && performance.now() < deadline) {
        const i = next++;
        const s = performance.now();
        await worker(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return withSamples({ ...summarize(lat), requests: lat.length, errors: 0, seconds: elapsed, rps: lat.length / elapsed }, lat);
}

/** A typical Patient: the first Synthea smart-2019 patient (3.4 kB with narrative), id/meta stripped. */
export function typicalPatient() {
  const dir = join(CORPUS, 'synthea/smart-2019');
  if (existsSync(dir)) {
    const file = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()[0];
    if (file) {
      const bundle = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const p = structuredClone(bundle.entry.find((e) => e.resource?.resourceType === 'Patient').resource);
      delete p.id;
      delete p.meta;
      return { patient: p, source: `synthea/smart-2019/${file}` };
    }
  }
  return {
    source: 'built-in (corpus not found)',
    patient: {
      resourceType: 'Patient',
      identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-0012345' }],
      active: true,
      name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
      telecom: [
        { system: 'phone', value: '(03) 5555 6473', use: 'work', rank: 1 },
        { system: 'email', value: 'peter.chalmers@example.org' },
      ],
      gender: 'male',
      birthDate: '1974-12-25',
      address: [{ use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', state: 'Vic', postalCode: '3999', country: 'AU' }],
      maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] },
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-AU' }] }, preferred: true }],
    },
  };
}

// ---------------------------------------------------------------------------------------
// Printing

export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
export const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
export const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
export const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));

export function table(rows, header) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function verdict(ok) {
  return ok ? 'MET' : 'MISSED';
}

/** Short fingerprint of the server build measured (main/ is not committed: dist/cli.js's hash). */
export function buildId() {
  try {
    return createHash('sha256').update(readFileSync(join(REPO, 'dist/cli.js'))).digest('hex').slice(0, 12);
  } catch {
    return 'unbuilt';
  }
}

export function environment() {
  return `build ${buildId()}, node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cpus (${cpus()[0]?.model ?? '?'})`;
}

export async function writeJson(path, figures) {
  if (!path) return;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, JSON.stringify(figures, null, 2));
}

// ---------------------------------------------------------------------------------------
// Sync (bench/sync.mjs): a CouchDB-protocol server and the flint CLI

/** Runs `node bin/flint.js ...args` with `input` on stdin; resolves with { code, stdout, stderr }. */
export function runFlintCli(args, { input } = {}) {
  const proc = spawn(process.execPath, [join(REPO, 'bin/flint.js'), ...args], {
    cwd: REPO,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) proc.stdin.end(input);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  return new Promise((ok) => proc.once('exit', (code) => ok({ code, stdout, stderr })));
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * pouchdb-server (a devDependency speaking CouchDB's HTTP API over PouchDB/leveldb) as a
 * child process on 127.0.0.1, with its data on disk (`--dir`) in a temp dir of its own and
 * one server admin with a random password. close() stops it and removes the dir.
 */
export async function startPouchdbServer({ timeoutMs = 30_000 } = {}) {
  const bin = join(REPO, 'node_modules/pouchdb-server/bin/pouchdb-server');
  const dir = tempDir('flint-bench-couch-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const admin = { username: 'admin', password: randomBytes(18).toString('base64url') };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, `${JSON.stringify({ admins: { [admin.username]: admin.password }, log: { file: join(dir, 'log.txt') } })}\n`);
  let out = '';
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--config', configFile, '--no-color'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => (out = (out + d).slice(-20_000));
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let gone = false;
    const exited = new Promise((r) => proc.once('exit', (code, signal) => ((gone = true), r(code ?? signal))));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (!gone && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/`);
        if (res.ok && (await res.json()).version) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      if (!gone) proc.kill('SIGKILL');
      await exited;
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pouchdb-server did not start:\n${out}`);
    }
    const basic = (c) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    return {
      url,
      port,
      pid: proc.pid,
      admin,
      dir,
      dbUrl: (name) => `${url}/${encodeURIComponent(name)}`,
      output: () => out,
      /** One JSON request as the admin (or `auth`); resolves with { status, json }. */
      async request(method, path, body, auth = admin) {
        const headers = { accept: 'application/json' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (auth) headers.authorization = basic(auth);
        const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
        const text = await res.text();
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text;
        }
        return { status: res.status, json };
      },
      async close() {
        const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        if (!gone) proc.kill('SIGTERM');
        await exited;
        clearTimeout(killer);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere or once it is gone. */
let clockTicks;
export function processCpuSeconds(pid) {
  try {
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}
