/**
 * Diagnostic, not a benchmark: what one synchronous round trip to a worker thread costs on
 * this machine, the price of every crossing a store connection on a thread would pay
 * (docs/benchmarks.md, "The store's connection on a thread"). Three ways:
 *   atomics      shared counters only (Atomics.notify / Atomics.wait), no data
 *   message      the request and reply as messages (receiveMessageOnPort on both sides),
 *                woken by Atomics: how a synchronous call with data works in Node
 *   message+work the same with 0.3 ms of other work on this thread between calls
 *
 *   node bench/diag-thread-crossing.mjs [--calls 5000]
 */
import { parseArgs } from 'node:util';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';

const { values } = parseArgs({ options: { calls: { type: 'string' } } });
const N = Number(values.calls ?? 5000);
const counters = new Int32Array(new SharedArrayBuffer(8)); // [0] requests, [1] replies
const requests = new MessageChannel();
const replies = new MessageChannel();
const worker = new Worker(
  `const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const c = new Int32Array(workerData.counters);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  if (!workerData.withData) { seen = Atomics.load(c, 0); Atomics.store(c, 1, seen); Atomics.notify(c, 1); continue; }
  let m;
  while ((m = receiveMessageOnPort(workerData.requests))) {
    seen++;
    if (m.message === 'end') process.exit(0);
    workerData.replies.postMessage({ results: [{ rows: [{ json: 'x'.repeat(300) }] }] });
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  }
}`,
  { eval: true, workerData: { counters: counters.buffer, requests: requests.port2, replies: replies.port1, withData: true }, transferList: [requests.port2, replies.port1] },
);
await new Promise((r) => setTimeout(r, 300));

function call(message) {
  const before = Atomics.load(counters, 1);
  requests.port1.postMessage(message);
  Atomics.add(counters, 0, 1);
  Atomics.notify(counters, 0);
  Atomics.wait(counters, 1, before, 5000);
  return receiveMessageOnPort(replies.port2)?.message;
}
const us = (t0, n) => (Number(process.hrtime.bigint() - t0) / n / 1000).toFixed(1);

let t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) call({ op: 'batch', statements: [['SELECT json FROM "document-store" WHERE id = ?', ['Patient/abc']]] });
const message = us(t0, N);
const spin = (ms) => { for (const s = performance.now(); performance.now() - s < ms; ); };
t0 = process.hrtime.bigint();
const M = Math.ceil(N / 10);
for (let i = 0; i < M; i++) { spin(0.3); call({ op: 'batch', statements: [['SELECT 1', []]] }); }
const withWork = (Number(us(t0, M)) - 300).toFixed(1);
requests.port1.postMessage('end');
Atomics.add(counters, 0, 1);
Atomics.notify(counters, 0);
await new Promise((r) => worker.once('exit', r));

// Atomics alone: a second worker that only answers the counter.
const c2 = new Int32Array(new SharedArrayBuffer(8));
const w2 = new Worker(
  `const { workerData } = require('node:worker_threads'); const c = new Int32Array(workerData); let seen = 0;
for (;;) { Atomics.wait(c, 0, seen); seen = Atomics.load(c, 0); if (seen < 0) process.exit(0); Atomics.store(c, 1, seen); Atomics.notify(c, 1); }`,
  { eval: true, workerData: c2.buffer },
);
await new Promise((r) => setTimeout(r, 300));
t0 = process.hrtime.bigint();
for (let i = 1; i <= N; i++) {
  Atomics.store(c2, 0, i);
  Atomics.notify(c2, 0);
  while (Atomics.load(c2, 1) !== i) Atomics.wait(c2, 1, i - 1, 1000);
}
const atomics = us(t0, N);
Atomics.store(c2, 0, -1);
Atomics.notify(c2, 0);
await new Promise((r) => w2.once('exit', r));

console.log(`thread crossing, ${N} calls: atomics ${atomics} µs; message ${message} µs; message after 0.3 ms of other work ${withWork} µs (per round trip)`);
