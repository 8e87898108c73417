/**
 * The two loops of bench/load.mjs over one keep-alive agent of `connections` sockets.
 *
 * runClosed: each connection sends its next request as soon as its previous one is
 *   answered (no think time). Latency runs from sending to the last byte. By Little's law
 *   its mean latency is connections / throughput: it measures the server at saturation.
 *
 * runOpen: `rate` requests/s offered in total, on a fixed schedule that does not depend on
 *   the answers. Request i is due at start + i / rate and goes out on connection
 *   i mod connections, so each connection sends every connections / rate seconds and the
 *   sends of all connections are evenly staggered. Latency runs from the request's DUE
 *   time, not from when it was sent: if its connection is still waiting for the previous
 *   answer when the slot comes, the request waits and that wait is part of its latency (no
 *   coordinated omission). The time from due to sent is reported apart as `wait`.
 *   Requests due within `seconds` are all sent, after the window if they are late; any
 *   still unsent `drainSeconds` after the window are counted as `unsent`, with the time
 *   from due to that cut-off as their latency (a lower bound), so a rate the server cannot
 *   keep up with never looks fast.
 *
 * Both return { seconds, requests, rps, errors, firstErrors, overall, kinds, sub } (plus
 * offered, unsent and wait for the open loop). An error is a status other than the expected
 * one, a transaction entry that is not 201, or a socket error.
 */
import { keepAliveAgent, request, summarize } from './lib.mjs';
import { KINDS } from './load-mix.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per-kind latencies and errors, and the summary of them. */
function recorder() {
  const lat = Object.fromEntries(KINDS.map((k) => [k, []]));
  const errors = Object.fromEntries(KINDS.map((k) => [k, 0]));
  const sub = {};
  const subErrors = {};
  const firstErrors = [];
  return {
    add(r, ms, problem) {
      lat[r.kind].push(ms);
      if (r.sub) (sub[r.sub] ??= []).push(ms);
      if (!problem) return;
      errors[r.kind]++;
      if (r.sub) subErrors[r.sub] = (subErrors[r.sub] ?? 0) + 1;
      if (firstErrors.length < 5) firstErrors.push(problem);
    },
    result(seconds) {
      const all = KINDS.flatMap((k) => lat[k]);
      return {
        seconds,
        requests: all.length,
        rps: all.length / seconds,
        errors: KINDS.reduce((n, k) => n + errors[k], 0),
        firstErrors,
        overall: summarize(all),
        kinds: Object.fromEntries(KINDS.filter((k) => lat[k].length).map((k) => [k, { count: lat[k].length, errors: errors[k], ...summarize(lat[k]) }])),
        sub: Object.fromEntries(Object.entries(sub).map(([k, v]) => [k, { count: v.length, errors: subErrors[k] ?? 0, ...summarize(v) }])),
      };
    },
  };
}

/** Sends one request of the mix; resolves with a description of what went wrong, or undefined. */
async function send(agent, target, r) {
  try {
    const res = await request(agent, target, r.method, r.path, r.body, { ...r.headers });
    if (res.status !== r.expect) return `${r.method} ${r.path.slice(0, 80)}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
    if (r.entries && target.token) {
      const reply = JSON.parse(res.body.toString('utf8'));
      const bad = (reply.entry ?? []).filter((e) => !String(e.response?.status).startsWith('201'));
      if (reply.entry?.length !== r.entries || bad.length) return `transaction: ${JSON.stringify(reply).slice(0, 300)}`;
    }
    return undefined;
  } catch (e) {
    return `${r.method} ${r.path.slice(0, 80)}: ${e.code ?? ''} ${e.message}`;
  }
}

/**
 * Closed loop for `seconds`; `only` restricts the mix to one kind (the bare baseline);
 * `sample(ms)` sees every latency (the per-second windows).
 */
export async function runClosed(target, seconds, { connections, make, only, sample }) {
  const agent = keepAliveAgent(connections);
  const rec = recorder();
  let next = 0;
  const t = performance.now();
  const deadline = t + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        let r = make(next++);
        while (only && r.kind !== only) r = make(next++);
        const s = performance.now();
        const problem = await send(agent, target, r);
        const ms = performance.now() - s;
        rec.add(r, ms, problem);
        sample?.(ms);
      }
    }),
  );
  const elapsed = (performance.now() - t) / 1000;
  agent.destroy();
  return rec.result(elapsed);
}

/** Open loop: `rate` requests/s offered for `seconds` (see the header). */
export async function runOpen(target, seconds, { connections, rate, make, sample, drainSeconds = 10 }) {
  const agent = keepAliveAgent(connections);
  const rec = recorder();
  const waits = [];
  let unsent = 0;
  const due = Math.floor(seconds * rate);
  const start = performance.now() + 20; // every connection is waiting for its first slot by then
  const cutoff = start + (seconds + drainSeconds) * 1000;
  let last = start;
  await Promise.all(
    Array.from({ length: Math.min(connections, due) }, async (_, k) => {
      for (let i = k; i < due; i += connections) {
        const at = start + (i * 1000) / rate;
        // Timers round to whole milliseconds and may fire a little early: sleep until due.
        for (let now = performance.now(); now < at; now = performance.now()) await sleep(Math.max(1, Math.ceil(at - now)));
        if (performance.now() >= cutoff) {
          // Never sent: its latency is at least the time from its slot to the cut-off.
          for (let u = i; u < due; u += connections) {
            const r = make(u);
            rec.add(r, cutoff - (start + (u * 1000) / rate), undefined);
            unsent++;
          }
          return;
        }
        const r = make(i);
        const sent = performance.now();
        waits.push(sent - at);
        const problem = await send(agent, target, r);
        const end = performance.now();
        last = Math.max(last, end);
        rec.add(r, end - at, problem);
        sample?.(end - at);
      }
    }),
  );
  agent.destroy();
  const result = rec.result((Math.max(last, start + seconds * 1000) - start) / 1000);
  return { ...result, offered: rate, unsent, wait: summarize(waits), rps: (result.requests - unsent) / result.seconds };
}
