/**
 * The shell's event loop (issue 14): how janky would the desktop app's main process be if the
 * workstation core ran in it? The main process's loop moves and resizes windows, opens menus,
 * updates the tray and answers IPC; a stall of 50-100 ms or more is visible.
 *
 * A "shell" stand-in process (this file with --role shell; Electron cannot run here) measures
 * its own event loop with perf_hooks.monitorEventLoopDelay (10 ms resolution; figures are the
 * delay beyond the 10 ms timer) and a 10 ms timer that counts stalls (a tick >= 50, 100 or
 * 250 ms late), in one of two modes:
 *
 *   in-process  the core runs IN the stand-in: it imports the built core entry
 *               (dist/desktop-core.js) behind a stand-in of Electron's process.parentPort,
 *               so the core is exactly the desktop app's, and the stand-in only relays its
 *               messages (ready, sync status);
 *   child       the BASELINE: the same entry forked as a child process (as the utility
 *               process would be), and the stand-in only relays its messages.
 *
 * This driver loads the core over HTTP, the same way in both modes, and asks the stand-in
 * for its figures after each phase:
 *   idle     --idle-seconds (15) with nothing to do;
 *   import   `$import` of the Synthea smart-2019 corpus as NDJSON (20,629 resources), as
 *            bench/import.mjs does; a sync pull of a large batch does the same work
 *            (validate, store, index, audit) on the same loop;
 *   load     bench/load.mjs's mix (seeded with --bundles 10 Synthea bundles and --patients
 *            200, 3 s warm-up not counted): --load-seconds (30) closed loop over 50
 *            connections (saturation), then --load-seconds open loop at --rate (150)
 *            requests/s.
 * Modes alternate over --rounds (1): in-process first in odd rounds, child first in even ones.
 *
 *   node scripts/build.mjs
 *   flock /tmp/bench.lock scripts/with-keyring.sh node bench/shell-jank.mjs --no-build [--rounds 2]
 *       [--idle-seconds 15] [--load-seconds 30] [--rate 150] [--bundles 10] [--patients 200] [--json FILE]
 *
 * Printed per mode and phase: loop delay p50/p99/max (ms), stalls >= 50/100/250 ms and the
 * longest, the work done (resources/s, requests/s, request p99), and the stand-in's (and the
 * core child's) RSS at the end. RESULT line: VISIBLE when the in-process shell's loop stalls
 * >= 100 ms under import and load, at least 3 times as often as the baseline's (whose
 * stalls come from sharing the CPUs with the core and the load generator).
 */
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const role = process.argv.includes('--role') ? process.argv[process.argv.indexOf('--role') + 1] : 'driver';
if (role === 'shell') await shell();
else await driver();

// ---------------------------------------------------------------- the shell stand-in

async function shell() {
  const { values } = parseArgs({ options: { role: { type: 'string' }, mode: { type: 'string' }, entry: { type: 'string' }, 'data-dir': { type: 'string' } } });
  const { mode, entry } = values;
  const dataDir = values['data-dir'];
  const toDriver = (m) => process.send(m);

  // The loop's figures: the histogram, and a 10 ms tick that counts stalls by size.
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let stalls = [];
  let expected = performance.now() + 10;
  const tick = () => {
    const now = performance.now();
    const late = now - expected;
    if (late >= 50) stalls.push(late);
    expected = now + 10;
    setTimeout(tick, 10);
  };
  setTimeout(tick, 10);
  const figures = () => {
    // The histogram holds each 10 ms timer's whole interval: the delay is what is beyond it.
    const ms = (ns) => Math.max(0, ns / 1e6 - 10);
    return {
      p50: ms(h.percentile(50)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      mean: ms(h.mean),
      stalls50: stalls.length,
      stalls100: stalls.filter((s) => s >= 100).length,
      stalls250: stalls.filter((s) => s >= 250).length,
      longest: stalls.length ? Math.max(...stalls) : 0,
      stalledMs: stalls.reduce((a, b) => a + b, 0),
    };
  };

  // What the real shell does with the core's messages: parse, keep the last status.
  let lastStatus;
  let corePid;
  const fromCore = (m) => {
    if (m?.type === 'ready') toDriver({ type: 'ready', baseUrl: m.baseUrl, pid: process.pid, corePid });
    else if (m?.type === 'sync-status') lastStatus = JSON.parse(JSON.stringify(m.status));
    else if (m?.type === 'failed') toDriver({ type: 'failed', message: m.message });
  };
  let toCore;
  if (mode === 'child') {
    const child = fork(entry, ['--data-dir', dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    corePid = child.pid;
    child.on('message', fromCore);
    child.on('exit', (code) => process.exit(code ?? 1));
    toCore = (m) => child.send(m);
  } else {
    // Electron's process.parentPort, in this process: messages arrive as { data } events.
    corePid = process.pid;
    const port = new EventEmitter();
    process.parentPort = { on: (ev, l) => port.on(ev, l), postMessage: (m) => setImmediate(() => fromCore(structuredClone(m))) };
    toCore = (m) => setImmediate(() => port.emit('message', { data: structuredClone(m) }));
    process.argv.splice(2, Infinity, '--data-dir', dataDir); // what the entry parses
    void import(pathToFileURL(entry).href); // resolves only when the core has stopped (it exits then)
  }
  process.on('message', (m) => {
    if (m.cmd === 'report') {
      toDriver({ type: 'report', figures: figures(), status: lastStatus?.state });
      if (m.reset) {
        h.reset();
        stalls = [];
      }
    } else if (m.cmd === 'stop') {
      toCore({ type: 'stop' });
    }
  });
}

// ---------------------------------------------------------------- the driver

async function driver() {
  const lib = await import('./lib.mjs');
  const { build, environment, f0, f1, importParameters, machineState, mintToken, keepAliveAgent, runAsyncJob, syntheaBundlePaths, table, tempDir, writeJson, REPO } = lib;
  const { seed, mixMaker } = await import('./load-mix.mjs');
  const { runClosed, runOpen } = await import('./load-run.mjs');
  const opts = lib.options({
    rounds: { type: 'string' },
    'idle-seconds': { type: 'string' },
    'load-seconds': { type: 'string' },
    rate: { type: 'string' },
    bundles: { type: 'string' },
    patients: { type: 'string' },
  });
  const rounds = Number(opts.rounds ?? 1);
  const idleSeconds = Number(opts['idle-seconds'] ?? 15);
  const loadSeconds = Number(opts['load-seconds'] ?? 30);
  const rate = Number(opts.rate ?? 150);
  const bundleCount = Number(opts.bundles ?? 10);
  const patientCount = Number(opts.patients ?? 200);
  const entry = join(REPO, 'dist/desktop-core.js');
  build(opts);

  // The import's input: every Synthea resource as NDJSON per type, references as Type/id.
  const names = syntheaBundlePaths('shell-jank bench');
  const ndjson = tempDir('flint-bench-jank-');
  const byType = new Map();
  let resources = 0;
  for (const name of names) {
    const bundle = JSON.parse(readFileSync(name, 'utf8'));
    const ids = new Map(bundle.entry.map((e) => [e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`]));
    for (const e of bundle.entry) {
      const text = JSON.stringify(e.resource).replace(/"(urn:uuid:[0-9a-f-]+)"/g, (m, u) => (ids.has(u) ? `"${ids.get(u)}"` : m));
      if (!byType.has(e.resource.resourceType)) byType.set(e.resource.resourceType, []);
      byType.get(e.resource.resourceType).push(text);
      resources++;
    }
  }
  mkdirSync(join(ndjson, 'in'));
  for (const [type, lines] of byType) writeFileSync(join(ndjson, 'in', `${type}.ndjson`), `${lines.join('\n')}\n`);
  const bundles = names.slice(0, bundleCount).map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const { patient } = lib.typicalPatient();
  const patientBody = JSON.stringify(patient);

  console.log(
    `shell-jank bench: ${environment()}; ${rounds} round(s); idle ${idleSeconds} s, $import of ${f0(resources)} resources, ` +
      `load mix ${loadSeconds} s closed (50 connections) + ${loadSeconds} s open at ${rate}/s (seed ${bundles.length} bundles + ${patientCount} Patients)`,
  );

  const rssMiB = (pid) => {
    try {
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
    } catch {
      return NaN;
    }
  };

  async function runMode(mode) {
    const dataDir = tempDir('flint-bench-jank-data-');
    const proc = fork(fileURLToPath(import.meta.url), ['--role', 'shell', '--mode', mode, '--entry', entry, '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
    const next = (type) =>
      new Promise((ok, fail) => {
        const on = (m) => {
          if (m.type === 'failed') fail(new Error(`core failed: ${m.message}`));
          if (m.type !== type) return;
          proc.off('message', on);
          ok(m);
        };
        proc.on('message', on);
        exited.then((code) => fail(new Error(`the shell stand-in exited (${code}):\n${out}`)));
      });
    const report = async () => {
      const r = next('report');
      proc.send({ cmd: 'report', reset: true });
      return (await r).figures;
    };
    const ready = await next('ready');
    const url = new URL(ready.baseUrl);
    const target = { host: url.hostname, port: Number(url.port), token: await mintToken(dataDir) };
    const phases = {};
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    console.log(`\n[${mode}] ready at ${ready.baseUrl}; ${machineState()}`);

    await sleep(3000); // the first sync counts (1.5 s after start) out of the way
    await report();
    await sleep(idleSeconds * 1000);
    phases.idle = { loop: await report(), work: 'nothing' };

    {
      const agent = keepAliveAgent(1);
      const t0 = performance.now();
      const summary = await runAsyncJob(agent, target, 'POST', '/fhir/$import', importParameters(join(ndjson, 'in')), { pollMs: 200 });
      const seconds = (performance.now() - t0) / 1000;
      agent.destroy();
      const written = summary.output.find((o) => o.type === 'written')?.count ?? 0;
      phases.import = { loop: await report(), work: `${f0(written)} resources in ${f1(seconds)} s: ${f0(written / seconds)}/s`, rps: written / seconds };
    }

    const seeded = await seed(target, bundles, patientCount, patientBody);
    const make = mixMaker(seeded, patient, patientBody);
    await runClosed(target, 3, { connections: 50, make });
    await report();
    const closed = await runClosed(target, loadSeconds, { connections: 50, make });
    phases.closed = { loop: await report(), work: `${f0(closed.rps)} req/s, p99 ${f1(closed.overall.p99)} ms, ${closed.errors} errors`, rps: closed.rps, p99: closed.overall.p99 };
    const open = await runOpen(target, loadSeconds, { connections: 50, rate, make });
    phases.open = { loop: await report(), work: `${f0(open.rps)} req/s, p99 ${f1(open.overall.p99)} ms, ${open.errors} errors, ${open.unsent} unsent`, rps: open.rps, p99: open.overall.p99 };

    const rss = { shell: rssMiB(ready.pid), core: mode === 'child' ? rssMiB(ready.corePid) : 0 };
    const t0 = performance.now();
    proc.send({ cmd: 'stop' });
    const code = await exited;
    const stopMs = performance.now() - t0;
    rmSync(dataDir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`[${mode}] the shell stand-in exited with ${code}:\n${out.slice(-3000)}`);
    for (const [phase, p] of Object.entries(phases)) {
      const l = p.loop;
      console.log(
        `  ${phase.padEnd(7)} loop p50 ${f1(l.p50)} ms, p99 ${f1(l.p99)} ms, max ${f1(l.max)} ms; ` +
          `stalls >=50/100/250 ms: ${l.stalls50}/${l.stalls100}/${l.stalls250} (${f1(l.stalledMs / 1000)} s in all); work: ${p.work}`,
      );
    }
    console.log(`  RSS at the end: shell ${f0(rss.shell)} MiB${mode === 'child' ? ` + core ${f0(rss.core)} MiB` : ' (core included)'}; stopped in ${f0(stopMs)} ms`);
    return { mode, phases, rss, stopMs };
  }

  const runs = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['in-process', 'child'] : ['child', 'in-process'];
      for (const mode of order) runs.push({ round: r + 1, ...(await runMode(mode)) });
    }
  } finally {
    rmSync(ndjson, { recursive: true, force: true });
  }

  const PHASES = ['idle', 'import', 'closed', 'open'];
  const label = { idle: 'idle', import: '$import', closed: 'load, closed loop', open: `load, open ${rate}/s` };
  const rows = [];
  for (const phase of PHASES) {
    for (const run of runs) {
      const l = run.phases[phase].loop;
      rows.push([label[phase], `${run.mode} (round ${run.round})`, f1(l.p50), f1(l.p99), f1(l.max), `${l.stalls50}/${l.stalls100}/${l.stalls250}`, run.phases[phase].work]);
    }
  }
  console.log(`\n${table(rows, ['phase', 'core runs', 'loop p50 ms', 'p99 ms', 'max ms', 'stalls >=50/100/250', 'work done'])}`);
  // The verdict: visible stalls (>= 100 ms) of the shell's loop under import and load, per mode.
  const busy = ['import', 'closed', 'open'];
  const sum = (mode, key) => runs.filter((r) => r.mode === mode).reduce((n, r) => n + busy.reduce((m, p) => m + r.phases[p].loop[key], 0), 0);
  const worst = (mode) => Math.max(...runs.filter((r) => r.mode === mode).flatMap((r) => busy.map((p) => r.phases[p].loop.max)));
  const verdict = Object.fromEntries(['in-process', 'child'].map((m) => [m, { stalls100: sum(m, 'stalls100'), stalls250: sum(m, 'stalls250'), stalledMs: sum(m, 'stalledMs'), worst: worst(m) }]));
  const a = verdict['in-process'];
  const b = verdict.child;
  // Visible: stalls of 100 ms or more, at least 3x as many as the baseline's (whose come from sharing 2 vCPUs).
  const visible = a.stalls100 > 0 && a.stalls100 >= 3 * b.stalls100;
  console.log(
    `\nThe shell's loop under import and load (all rounds): stalls >= 100 ms / >= 250 ms / time stalled / worst:` +
      `\n  core in-process:      ${a.stalls100} / ${a.stalls250} / ${f1(a.stalledMs / 1000)} s / ${f1(a.worst)} ms` +
      `\n  core in a child (baseline): ${b.stalls100} / ${b.stalls250} / ${f1(b.stalledMs / 1000)} s / ${f1(b.worst)} ms` +
      `\nRESULT shell-jank: ${visible ? 'VISIBLE: the core in the main process stalls its loop (>= 3x the baseline\'s stalls of 100 ms or more): run it in a utility process' : 'NOT VISIBLE: in-process stalls are within 3x the baseline\'s'}`,
  );
  await writeJson(opts.json, { bench: 'shell-jank', date: new Date().toISOString(), environment: environment(), rounds, idleSeconds, loadSeconds, rate, resources, runs, verdict, visible });
}
