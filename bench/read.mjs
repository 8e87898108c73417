/**
 * Read latency and throughput: GET /fhir/Patient/<id> of a typical Patient over loopback,
 * 1 and 10 keep-alive connections, against a bare node:http server that answers with the
 * very same status, headers and bytes.
 *
 *   scripts/with-keyring.sh node bench/read.mjs [--rounds 3] [--seconds 3] [--warmup 1000] [--no-build] [--cpu-prof DIR] [--json FILE]
 *
 * Each round measures every server at 1 then 10 connections, interleaved, so that drift on
 * a shared machine hits all of them alike; the figures are medians over the rounds, and the
 * ratios medians of the per-round ratios.
 *
 * Baselines (same client, same run):
 *   bare        a node:http server inside this bench process (the brief's baseline; it
 *               shares this process's one thread with the load generator)
 *   bare-proc   the same server in its own process, as Flint is (apples to apples)
 * Target: Flint's read p50 within 5x of the bare server's, at 1 and at 10 connections.
 */
import {
  build,
  environment,
  f0,
  f2,
  machineState,
  keepAliveAgent,
  load,
  median,
  options,
  request,
  startBare,
  startBareChild,
  startFlint,
  table,
  typicalPatient,
  verdict,
  writeJson,
} from './lib.mjs';

const TARGET = 5;
/** The audit trail's cost: read p50 with audit on within this of the same server with --no-audit. */
const AUDIT_TARGET = 1.3;
const opts = options({ seconds: { type: 'string' }, warmup: { type: 'string' }, rounds: { type: 'string' } });
const seconds = Number(opts.seconds ?? 3);
const warmup = Number(opts.warmup ?? 1000);
const rounds = Number(opts.rounds ?? 3);

build(opts);
const { patient, source } = typicalPatient();
console.log(
  `read bench: ${environment()}; ${machineState()}; Patient from ${source}; ${rounds} rounds of ${seconds} s per phase, ${warmup} warm-up requests`,
);

const flint = await startFlint({ cpuProfDir: opts['cpu-prof'] });
const servers = [];
try {
  // Create the Patient, then capture Flint's exact reply to a read.
  const agent = keepAliveAgent(1);
  const json = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
  const created = await request(agent, flint, 'POST', '/fhir/Patient', JSON.stringify(patient), json);
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.body}`);
  const id = JSON.parse(created.body.toString()).id;
  const path = `/fhir/Patient/${id}`;
  const reply = await request(agent, flint, 'GET', path, undefined, { accept: 'application/fhir+json' });
  agent.destroy();
  if (reply.status !== 200) throw new Error(`read failed: ${reply.status}`);
  const headers = Object.fromEntries(
    Object.entries(reply.headers).filter(([k]) => !['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)),
  );
  console.log(`response: ${reply.status}, ${reply.body.length} body bytes, ${Object.keys(headers).length} headers`);

  // The same read from a Flint without its audit trail (`serve --no-audit`), for the audit's cost.
  const noAudit = await startFlint({ args: ['--no-audit'] });
  servers.push(noAudit);
  const copy = JSON.parse(created.body.toString());
  const a2 = keepAliveAgent(1);
  const put = await request(a2, noAudit, 'PUT', path, JSON.stringify(copy), json);
  a2.destroy();
  if (put.status !== 201) throw new Error(`no-audit create failed: ${put.status}`);

  const bare = await startBare(200, headers, reply.body);
  servers.push(bare);
  const bareProc = await startBareChild(200, headers, reply.body);
  servers.push(bareProc);
  // Same bytes from every server.
  for (const s of [bare, bareProc]) {
    const a = keepAliveAgent(1);
    const r = await request(a, s, 'GET', path, undefined, { accept: 'application/fhir+json' });
    a.destroy();
    if (!r.body.equals(reply.body)) throw new Error('bare server body differs from Flint');
  }

  const make = () => ({ method: 'GET', path, headers: { accept: 'application/fhir+json' }, expect: 200 });
  const targets = { flint, 'no-audit': noAudit, bare, 'bare-proc': bareProc };
  const names = Object.keys(targets);
  const runs = {}; // `${name}/c${connections}` -> per-round results
  for (let round = 1; round <= rounds; round++) {
    console.log(`  round ${round}: ${machineState()}`);
    for (const connections of [1, 10]) {
      for (const [name, target] of Object.entries(targets)) {
        const r = await load(target, { connections, seconds, warmup: round === 1 ? warmup : Math.min(warmup, 50), make });
        (runs[`${name}/c${connections}`] ??= []).push(r);
        console.log(
          `  round ${round}  ${name.padEnd(9)} c=${String(connections).padEnd(2)}  ${f0(r.rps).padStart(6)} req/s  p50 ${f2(r.p50)} ms  p99 ${f2(r.p99)} ms${r.errors ? `  ${r.errors} ERRORS` : ''}`,
        );
      }
    }
  }
  const med = (key, stat) => median(runs[key].map((r) => r[stat]));
  const results = {};
  const rows = [];
  for (const connections of [1, 10]) {
    for (const name of names) {
      const key = `${name}/c${connections}`;
      const m = Object.fromEntries(['rps', 'p50', 'p95', 'p99', 'max'].map((k) => [k, med(key, k)]));
      const errors = runs[key].reduce((n, r) => n + r.errors, 0);
      const requests = runs[key].reduce((n, r) => n + r.requests, 0);
      results[key] = { ...m, errors, requests, rounds: runs[key] };
      rows.push([name, connections, f0(requests), f0(m.rps), f2(m.p50), f2(m.p95), f2(m.p99), f2(m.max), errors]);
    }
  }
  console.log(`\nmedians over ${rounds} rounds:\n` + table(rows, ['server', 'conns', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors']));

  const ratioRows = [];
  const checks = [];
  for (const connections of [1, 10]) {
    const fl = runs[`flint/c${connections}`];
    for (const base of ['bare', 'bare-proc']) {
      const b = runs[`${base}/c${connections}`];
      const per = (f) => median(fl.map((r, i) => f(r, b[i])));
      const ratio = {
        p50: per((x, y) => x.p50 / y.p50),
        p95: per((x, y) => x.p95 / y.p95),
        p99: per((x, y) => x.p99 / y.p99),
        throughput: per((x, y) => y.rps / x.rps),
        p50Rounds: fl.map((r, i) => r.p50 / b[i].p50),
      };
      ratioRows.push([`flint / ${base}`, connections, f2(ratio.p50) + 'x', f2(ratio.p95) + 'x', f2(ratio.p99) + 'x', f2(ratio.throughput) + 'x', ratio.p50Rounds.map(f2).join(' ')]);
      checks.push({ connections, base, ratio });
    }
  }
  console.log('\n' + table(ratioRows, ['ratio (median of rounds)', 'conns', 'p50', 'p95', 'p99', 'req/s (bare/flint)', 'p50 ratio per round']));

  const errors = Object.values(results).reduce((n, r) => n + r.errors, 0);
  console.log(`\nTarget: read p50 within ${TARGET}x of bare`);
  let allMet = errors === 0;
  for (const { connections, base, ratio } of checks) {
    const ok = ratio.p50 <= TARGET;
    if (base === 'bare') allMet &&= ok;
    console.log(`  c=${connections} vs ${base.padEnd(9)}: p50 ratio ${f2(ratio.p50)}x -> ${verdict(ok)}${base === 'bare-proc' ? ' (informative)' : ''}`);
  }
  console.log(`RESULT read: ${verdict(allMet)}`);
  console.log(`\nTarget: read p50 with the audit trail within ${AUDIT_TARGET}x of the same server without it`);
  const audit = {};
  let auditMet = errors === 0;
  for (const connections of [1, 10]) {
    const on = runs[`flint/c${connections}`];
    const off = runs[`no-audit/c${connections}`];
    const ratio = median(on.map((r, i) => r.p50 / off[i].p50));
    const throughput = median(on.map((r, i) => off[i].rps / r.rps));
    audit[`c${connections}`] = { p50: ratio, throughput, p50Rounds: on.map((r, i) => r.p50 / off[i].p50) };
    auditMet &&= ratio <= AUDIT_TARGET;
    console.log(`  c=${connections}: p50 audit on / off ${f2(ratio)}x (req/s off/on ${f2(throughput)}x) -> ${verdict(ratio <= AUDIT_TARGET)}`);
  }
  console.log(`RESULT audit-cost: ${verdict(auditMet)}`);
  await writeJson(opts.json, { bench: 'read', date: new Date().toISOString(), environment: environment(), source, bytes: reply.body.length, results, checks, audit, met: allMet, auditMet });
} finally {
  for (const s of servers) await s.stop();
  const code = await flint.stop();
  if (code !== 0) console.error(`flint exited with ${code}:\n${flint.output()}`);
}
