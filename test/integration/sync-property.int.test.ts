/**
 * A property of sync (docs/sync.md): whatever the interleaving of edits, deletes,
 * disconnects and reconnects on two workstations, once both are connected again they
 * converge (the same current version of every resource on both) and no edit is lost
 * (every version either side wrote is readable on both). fast-check generates the
 * interleavings; the workstations and the server are real processes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FhirClient } from '../support/fhir-client';
import { eventually, flintApi, startSyncPair, syncStatus, type SyncPair } from '../support/sync-pair';

let pair: SyncPair;
let run = 0;

beforeAll(async () => {
  pair = await startSyncPair();
}, 120_000);

afterAll(async () => {
  await pair?.close();
});

type Side = 'a' | 'b';
type Op =
  | { kind: 'edit'; side: Side; res: number; family: string }
  | { kind: 'delete'; side: Side; res: number }
  | { kind: 'disconnect'; side: Side }
  | { kind: 'reconnect'; side: Side };

const side = fc.constantFrom<Side>('a', 'b');
const res = fc.integer({ min: 0, max: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('edit' as const), side, res, family: fc.stringMatching(/^[A-Z][a-z]{1,8}$/) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), side, res }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), side }) },
);

const setPaused = async (s: Side, paused: boolean) => {
  const r = await flintApi(pair[s], 'PUT', 'sync', { paused });
  expect(r.status).toBe(200);
};

/** What a client sees of a resource: gone, or its current version. */
async function state(client: FhirClient, path: string): Promise<string> {
  const r = await client.get(path);
  return r.status === 200 ? `200 ${r.body.meta?.versionId}` : String(r.status);
}

it('converges and loses no edit, whatever the interleaving', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 24 }), async (ops) => {
      const prefix = `prop${++run}`;
      const path = (i: number) => `Patient/${prefix}-${i}`;
      const written: string[] = []; // "path vid" of every version a side wrote
      const clients = { a: pair.a.client(), b: pair.b.client() };
      for (const o of ops) {
        if (o.kind === 'edit') {
          const r = await clients[o.side].put(path(o.res), { resourceType: 'Patient', id: `${prefix}-${o.res}`, name: [{ family: o.family }] });
          expect([200, 201]).toContain(r.status);
          written.push(`${path(o.res)} ${r.body.meta?.versionId}`);
        } else if (o.kind === 'delete') {
          expect([200, 204, 404, 410]).toContain((await clients[o.side].delete(path(o.res))).status);
        } else {
          await setPaused(o.side, o.kind === 'disconnect');
        }
      }
      await setPaused('a', false);
      await setPaused('b', false);
      // Converged: both caught up, and every resource the same on both sides.
      await eventually(async () => {
        const [sa, sb] = [await syncStatus(pair.a), await syncStatus(pair.b)];
        if (sa.state !== 'idle' || sb.state !== 'idle' || sa.pending > 0 || sb.pending > 0) return undefined;
        for (let i = 0; i < 2; i++) {
          if ((await state(clients.a, path(i))) !== (await state(clients.b, path(i)))) return undefined;
        }
        return true;
      }, 60_000, `convergence after ${JSON.stringify(ops)}`);
      // No edit lost: every version either side wrote is readable on both.
      for (const w of written) {
        const [p, vid] = w.split(' ') as [string, string];
        for (const client of [clients.a, clients.b]) {
          const v = await client.get(`${p}/_history/${vid}`);
          expect(v.status, `${w} on ${client.baseUrl}`).toBe(200);
        }
      }
    }),
    { numRuns: 12, endOnFailure: true },
  );
}, 600_000);
