/**
 * Crash safety: a real server takes a stream of writes from several concurrent clients
 * (single PUTs and DELETEs, transaction Bundles that create four resources, transaction
 * Bundles that update a pair of resources together) and is killed with SIGKILL while
 * requests are in flight. It is restarted on the same data dir and checked:
 *  - every acknowledged write is readable at its acknowledged versionId, with the content
 *    that was sent (an acknowledged delete is a deleted version);
 *  - every resource written by one client is in the state of its last acknowledged write,
 *    or of the one write that was still in flight when the process died;
 *  - every transaction, acknowledged or not, is applied entirely or not at all: its four
 *    created resources all exist or none does; a pair updated together is at the same
 *    generation, with the same number of versions.
 * Several rounds on the same data dir, so later rounds re-check earlier acknowledgements.
 * The PRNG seed is printed; FLINT_CRASH_SEED=<n> replays the same choices.
 */
import type { Bundle, BundleEntry, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { forgetDataDir } from '../support/keychain';
import { UNTIL_DEFAULT_MS } from '../support/until';
import { startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

const ROUNDS = 3;
const WORKERS = 6;
const OWNED_PER_WORKER = 4;
const TX_SYSTEM = 'http://flint.test/crash-tx';
// Safety bound: a round never streams longer than this (the stream's start, then at most 2 s to the kill).
const STREAM_LIMIT_MS = UNTIL_DEFAULT_MS + 10_000;

/** mulberry32: small, seedable, good enough to pick operations and delays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'acked' | 'interrupted';

/** One write by the single client that owns a resource (so writes to it are sequential). */
interface OwnedOp {
  kind: 'PUT' | 'DELETE';
  family?: string;
  outcome: Outcome;
  vid?: string;
}

interface CreateTx {
  label: string;
  outcome: Outcome;
  /** Acknowledged: where each of the four entries was written. */
  written?: Array<{ type: string; id: string; vid: string }>;
}

interface PairTx {
  generation: number;
  outcome: Outcome;
  vids?: [string, string];
}

interface Pair {
  ids: [string, string];
  txs: PairTx[];
}

interface Ledger {
  owned: Map<string, OwnedOp[]>;
  creates: CreateTx[];
  pairs: Pair[];
}

const ledger: Ledger = { owned: new Map(), creates: [], pairs: [] };
const dataDir = tempDataDir('flint-crash-');
const seed = Number(process.env.FLINT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rand = prng(seed);
let running: RunningWorkstation | undefined;

afterAll(async () => {
  await running?.stop();
  await forgetDataDir(dataDir);
});

const vidFromLocation = (location: string | undefined): string => {
  const m = /\/([A-Za-z]+)\/([^/]+)\/_history\/([^/]+)$/.exec(location ?? '');
  if (!m) throw new Error(`no version in location ${location}`);
  return m[3]!;
};
const parseLocation = (location: string | undefined) => {
  const m = /\/([A-Za-z]+)\/([^/]+)\/_history\/([^/]+)$/.exec(location ?? '');
  if (!m) throw new Error(`bad location ${location}`);
  return { type: m[1]!, id: m[2]!, vid: m[3]! };
};
const etagVid = (etag: string | null): string => {
  const m = /^W\/"(.+)"$/.exec(etag ?? '');
  if (!m) throw new Error(`bad ETag ${etag}`);
  return m[1]!;
};

function createTxBundle(label: string): Bundle {
  const ident = [{ system: TX_SYSTEM, value: label }];
  const urn = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: `${ws().baseUrl}/Patient/${label}-a`,
        resource: { resourceType: 'Patient', id: `${label}-a`, identifier: ident, name: [{ family: `${label}-a` }] },
        request: { method: 'PUT', url: `Patient/${label}-a` },
      },
      {
        fullUrl: urn,
        resource: { resourceType: 'Patient', identifier: ident, name: [{ family: `${label}-posted` }] },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: {
          resourceType: 'Observation',
          id: `${label}-o`,
          identifier: ident,
          status: 'final',
          code: { text: label },
          subject: { reference: urn },
        },
        request: { method: 'PUT', url: `Observation/${label}-o` },
      },
      {
        resource: {
          resourceType: 'Observation',
          identifier: ident,
          status: 'final',
          code: { text: `${label}-posted` },
          subject: { reference: `Patient/${label}-a` },
        },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}

function pairTxBundle(pair: Pair, generation: number): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: pair.ids.map(
      (id): BundleEntry => ({
        resource: { resourceType: 'Patient', id, name: [{ family: `gen-${generation}` }] },
        request: { method: 'PUT', url: `Patient/${id}` },
      }),
    ),
  };
}

function ws(): RunningWorkstation {
  if (!running) throw new Error('no workstation running');
  return running;
}

interface StreamStats {
  started: number;
  acked: number;
  interrupted: number;
  inFlightAtKill: number;
  unexpected: string[];
}

/** Runs WORKERS clients against the server until it is killed; returns once all stopped. */
async function streamAndKill(round: number): Promise<StreamStats> {
  const server = ws();
  const client = server.client();
  const stats: StreamStats = { started: 0, acked: 0, interrupted: 0, inFlightAtKill: 0, unexpected: [] };
  let inFlight = 0;
  let killed = false;
  let seq = 0;
  const streamStart = Date.now();

  /** Sends one request; 'acked' with the reply, or 'interrupted' if the server died. */
  async function send<T>(fn: () => Promise<T>): Promise<{ outcome: 'acked'; reply: T } | { outcome: 'interrupted' } | undefined> {
    if (killed || Date.now() - streamStart > STREAM_LIMIT_MS) return undefined;
    stats.started++;
    inFlight++;
    try {
      const reply = await fn();
      return { outcome: 'acked', reply };
    } catch (e) {
      if (!killed) throw e; // a network error before the kill is a failure of its own
      stats.interrupted++;
      return { outcome: 'interrupted' };
    } finally {
      inFlight--;
    }
  }

  const worker = async (w: number) => {
    const owned = Array.from({ length: OWNED_PER_WORKER }, (_, k) => `r${round}w${w}k${k}`);
    for (const id of owned) ledger.owned.set(id, []);
    const pair: Pair = { ids: [`pair-r${round}w${w}-a`, `pair-r${round}w${w}-b`], txs: [] };
    ledger.pairs.push(pair);
    for (;;) {
      const n = ++seq;
      const pick = rand();
      if (pick < 0.4) {
        // single write to an owned resource: PUT (create or update), or DELETE when it exists
        const id = owned[Math.floor(rand() * owned.length)]!;
        const ops = ledger.owned.get(id)!;
        const lastAcked = [...ops].reverse().find((o) => o.outcome === 'acked');
        const del = lastAcked?.kind === 'PUT' && rand() < 0.25;
        const op: OwnedOp = del ? { kind: 'DELETE', outcome: 'interrupted' } : { kind: 'PUT', family: `put-${n}`, outcome: 'interrupted' };
        const res = await send(() =>
          del
            ? client.delete(`Patient/${id}`)
            : client.put<Patient>(`Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: op.family! }] }),
        );
        if (!res) return;
        ops.push(op);
        if (res.outcome === 'interrupted') return;
        const { status, headers } = res.reply;
        if (!(status === 200 || status === 201)) {
          stats.unexpected.push(`${op.kind} Patient/${id}: ${status}`);
          return;
        }
        op.outcome = 'acked';
        op.vid = etagVid(headers.get('etag'));
        stats.acked++;
      } else if (pick < 0.75) {
        const label = `tx-r${round}-${n}`;
        const tx: CreateTx = { label, outcome: 'interrupted' };
        const res = await send(() => client.post<Bundle>('', createTxBundle(label)));
        if (!res) return;
        ledger.creates.push(tx);
        if (res.outcome === 'interrupted') return;
        if (res.reply.status !== 200) {
          stats.unexpected.push(`transaction ${label}: ${res.reply.status} ${JSON.stringify(res.reply.body)}`);
          return;
        }
        tx.outcome = 'acked';
        tx.written = (res.reply.body.entry ?? []).map((e) => parseLocation(e.response?.location));
        stats.acked++;
      } else {
        const generation = n;
        const ptx: PairTx = { generation, outcome: 'interrupted' };
        const res = await send(() => client.post<Bundle>('', pairTxBundle(pair, generation)));
        if (!res) return;
        pair.txs.push(ptx);
        if (res.outcome === 'interrupted') return;
        if (res.reply.status !== 200) {
          stats.unexpected.push(`pair transaction: ${res.reply.status} ${JSON.stringify(res.reply.body)}`);
          return;
        }
        const entries = res.reply.body.entry ?? [];
        ptx.outcome = 'acked';
        ptx.vids = [vidFromLocation(entries[0]?.response?.location), vidFromLocation(entries[1]?.response?.location)];
        stats.acked++;
      }
    }
  };

  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const workersDone = Promise.allSettled(workers);
  // Let the stream get going, then kill at a random moment while requests are in flight.
  for (const end = Date.now() + UNTIL_DEFAULT_MS; stats.acked < 20 && Date.now() < end; ) await sleep(5);
  expect(stats.acked, `round ${round}: the stream did not start`).toBeGreaterThanOrEqual(20);
  await sleep(50 + Math.floor(rand() * 1000));
  for (let i = 0; i < 1000 && inFlight === 0; i++) await sleep(1);
  stats.inFlightAtKill = inFlight;
  killed = true;
  await server.kill();
  running = undefined;
  const settled = await workersDone;
  const failed = settled.filter((s) => s.status === 'rejected');
  expect(failed.map((f) => String((f as PromiseRejectedResult).reason)), 'client errors before the kill').toEqual([]);
  return stats;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every current resource of `type` with an identifier in TX_SYSTEM, grouped by value. */
async function txResources(client: FhirClient, type: string): Promise<Map<string, Resource[]>> {
  const out = new Map<string, Resource[]>();
  let path: string | undefined = `${type}?identifier=${encodeURIComponent(`${TX_SYSTEM}|`)}&_count=1000`;
  for (let page = 0; path && page < 100; page++) {
    const res: { status: number; body: Bundle } = await client.get<Bundle>(path);
    expect(res.status).toBe(200);
    for (const e of res.body.entry ?? []) {
      const r = e.resource as (Patient | Observation) | undefined;
      const value = r?.identifier?.find((i) => i.system === TX_SYSTEM)?.value;
      if (!r || !value) continue;
      out.set(value, [...(out.get(value) ?? []), r]);
    }
    const next = res.body.link?.find((l) => l.relation === 'next')?.url;
    path = next ? next.slice(client.baseUrl.length) : undefined;
  }
  return out;
}

/** Runs async checks with bounded parallelism. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

async function verify(client: FhirClient, context: string): Promise<{ checkedVersions: number }> {
  const problems: string[] = [];
  let checkedVersions = 0;
  const vread = async (type: string, id: string, vid: string) => {
    checkedVersions++;
    return client.get<Resource>(`${type}/${id}/_history/${vid}`);
  };

  // 1. Single writes: each acknowledged version readable; the current state is the last
  //    acknowledged write or the one in flight after it.
  await inParallel([...ledger.owned.entries()], 8, async ([id, ops]) => {
    for (const op of ops.filter((o) => o.outcome === 'acked')) {
      const v = await vread('Patient', id, op.vid!);
      if (op.kind === 'PUT') {
        const family = (v.body as Patient | undefined)?.name?.[0]?.family;
        if (v.status !== 200 || family !== op.family) problems.push(`acked PUT Patient/${id} v${op.vid}: ${v.status} ${family}`);
      } else if (v.status !== 410) problems.push(`acked DELETE Patient/${id} v${op.vid}: vread answered ${v.status}, not 410`);
    }
    const lastAckedIndex = ops.map((o) => o.outcome).lastIndexOf('acked');
    const allowed = ops.slice(Math.max(lastAckedIndex, 0)).filter((o, i) => i === 0 || o.outcome === 'interrupted');
    if (lastAckedIndex < 0) allowed.unshift({ kind: 'DELETE', outcome: 'interrupted' }); // never written
    const now = await client.get<Patient>(`Patient/${id}`);
    const state = now.status === 200 ? `PUT:${now.body.name?.[0]?.family}` : now.status === 410 || now.status === 404 ? 'absent' : `?${now.status}`;
    const allowedStates = allowed.map((o) => (o.kind === 'PUT' ? `PUT:${o.family}` : 'absent'));
    if (!allowedStates.includes(state)) {
      problems.push(`Patient/${id} is ${state}; allowed ${allowedStates.join(' | ')} (ops ${JSON.stringify(ops)})`);
    }
    if (lastAckedIndex >= 0 && ops[lastAckedIndex]!.kind === 'PUT' && now.status === 404) {
      problems.push(`Patient/${id} was acknowledged but is unknown (404)`);
    }
  });

  // 2. Create transactions: all four resources or none, acknowledged ones at their versions.
  const patients = await txResources(client, 'Patient');
  const observations = await txResources(client, 'Observation');
  let applied = 0;
  for (const tx of ledger.creates) {
    const p = patients.get(tx.label)?.length ?? 0;
    const o = observations.get(tx.label)?.length ?? 0;
    if (p + o !== 0) applied++;
    if (!((p === 2 && o === 2) || (p === 0 && o === 0))) {
      problems.push(`transaction ${tx.label} (${tx.outcome}) is partly applied: ${p} Patients, ${o} Observations`);
    }
    if (tx.outcome === 'acked' && p + o !== 4) problems.push(`acknowledged transaction ${tx.label} is missing`);
  }
  const known = new Set(ledger.creates.map((t) => t.label));
  for (const label of [...patients.keys(), ...observations.keys()]) {
    if (!known.has(label)) problems.push(`resources of transaction ${label} that was never sent`);
  }
  const ackedWrites = ledger.creates.filter((t) => t.outcome === 'acked').flatMap((t) => t.written!.map((w) => ({ ...w, label: t.label })));
  await inParallel(ackedWrites, 8, async (w) => {
    const v = await vread(w.type, w.id, w.vid);
    const value = (v.body as Patient | undefined)?.identifier?.[0]?.value;
    if (v.status !== 200 || value !== w.label) problems.push(`acked ${w.type}/${w.id} v${w.vid} of ${w.label}: ${v.status}`);
  });

  // 3. Pairs updated together: same generation, same number of versions.
  await inParallel(ledger.pairs, 4, async (pair) => {
    const [a, b] = await Promise.all(pair.ids.map((id) => client.get<Patient>(`Patient/${id}`)));
    const acked = pair.txs.filter((t) => t.outcome === 'acked');
    if (a!.status !== b!.status) {
      problems.push(`pair ${pair.ids.join('+')}: one exists and not the other (${a!.status}/${b!.status})`);
      return;
    }
    if (a!.status === 404) {
      if (acked.length > 0) problems.push(`pair ${pair.ids.join('+')}: acknowledged but absent`);
      return;
    }
    const ga = a!.body.name?.[0]?.family;
    const gb = b!.body.name?.[0]?.family;
    if (ga !== gb) problems.push(`pair ${pair.ids.join('+')} torn: ${ga} vs ${gb}`);
    const gen = Number(ga?.replace('gen-', ''));
    const lastAcked = acked[acked.length - 1];
    const lastSent = pair.txs[pair.txs.length - 1];
    const allowed = new Set([lastAcked?.generation, lastSent?.outcome === 'interrupted' ? lastSent.generation : undefined]);
    if (!allowed.has(gen)) problems.push(`pair ${pair.ids.join('+')} at ${ga}; allowed ${[...allowed].join(' | ')}`);
    const [ha, hb] = await Promise.all(pair.ids.map((id) => client.get<Bundle>(`Patient/${id}/_history?_count=1`)));
    if (ha!.body.total !== hb!.body.total) problems.push(`pair ${pair.ids.join('+')}: ${ha!.body.total} vs ${hb!.body.total} versions`);
    for (const t of acked) {
      for (const [i, id] of pair.ids.entries()) {
        const v = await vread('Patient', id, t.vids![i]!);
        if (v.status !== 200 || (v.body as Patient).name?.[0]?.family !== `gen-${t.generation}`) {
          problems.push(`acked pair generation ${t.generation} of Patient/${id}: ${v.status}`);
        }
      }
    }
  });

  expect(problems, `${context} (seed ${seed})`).toEqual([]);
  // The check saw transactions applied, not only the vacuous "none of it" case.
  expect(applied, `${context}: no transaction was applied at all`).toBeGreaterThan(0);
  return { checkedVersions };
}

describe('crash safety under SIGKILL', () => {
  it(`${ROUNDS} rounds: kill mid-stream, restart, every acknowledged write present, no partial transaction`, async () => {
    console.log(`crash-safety seed ${seed} (FLINT_CRASH_SEED to replay)`);
    const summary: string[] = [];
    // Requests the kill cut off, over all rounds. In one round there may be none: a test
    // process starved at the kill reads, afterwards, the replies the server had sent.
    let interrupted = 0;
    running = await startWorkstation({ dataDir });
    for (let round = 1; round <= ROUNDS; round++) {
      const stats = await streamAndKill(round);
      expect(stats.unexpected, `round ${round}: unexpected responses before the kill`).toEqual([]);
      expect(stats.inFlightAtKill, `round ${round}: nothing was in flight at the kill`).toBeGreaterThan(0);
      interrupted += stats.interrupted;

      // The restarted server is checked, then takes the next round's stream.
      running = await startWorkstation({ dataDir });
      const { checkedVersions } = await verify(running.client(), `after the kill of round ${round}`);
      summary.push(
        `round ${round}: ${stats.started} requests, ${stats.acked} acknowledged, ${stats.inFlightAtKill} in flight at the kill, ` +
          `${stats.interrupted} cut off; ${checkedVersions} versions checked`,
      );
    }
    expect(interrupted, 'no request was cut off by any kill').toBeGreaterThan(0);
    expect(await running.stop(), 'clean stop after the last round').toBe(0);
    running = undefined;
    console.log(summary.join('\n'));
  });
});
