/**
 * The pull's source that fetches one batch ahead (replication-ends.ts, prefetchingSource),
 * driven by PouchDB's own replicator between real encrypted PouchDBs on disk: everything
 * arrives once and unchanged, the next batch is fetched while the current one is written,
 * what the target has is never fetched, and a failed prefetch costs nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlintPouchDB, openEncryptedPouch } from '../store/encrypted-pouch';
import { prefetchingSource, revsDiffOf } from './replication-ends';

const BATCH = 50;
const DOCS = 500;
let dir: string;
let source: PouchDB.Database;
let target: PouchDB.Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flint-prefetch-'));
  source = await openEncryptedPouch({ file: join(dir, 'source.db'), key: randomBytes(32) });
  target = await openEncryptedPouch({ file: join(dir, 'target.db'), key: randomBytes(32) });
  const docs = Array.from({ length: DOCS }, (_, i) => ({ _id: `doc-${String(i).padStart(4, '0')}`, n: i, body: `value ${i}` }));
  await source.bulkDocs(docs);
});

afterEach(async () => {
  await source.close();
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

type Event = 'get' | 'write-start' | 'write-end';

/** The source's bulkGet and the target's bulkDocs, observed (the target's writes made slow). */
function observed(failCall?: number) {
  const events: Event[] = [];
  const requested: string[] = [];
  let calls = 0;
  const src = new Proxy(source, {
    get(t, prop) {
      if (prop === 'bulkGet') {
        return async (req: { docs: Array<{ id: string }> }) => {
          events.push('get');
          requested.push(...req.docs.map((d) => d.id));
          if (++calls === failCall) throw Object.assign(new Error('connection reset'), { status: 500 });
          return (t as unknown as { bulkGet(r: object): Promise<unknown> }).bulkGet(req);
        };
      }
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const tgt = new Proxy(target, {
    get(t, prop) {
      if (prop === 'bulkDocs') {
        return async (...args: unknown[]) => {
          events.push('write-start');
          await new Promise((r) => setTimeout(r, 30)); // validation and indexing take time
          const res = await (t.bulkDocs as (...a: unknown[]) => Promise<unknown>)(...args);
          events.push('write-end');
          return res;
        };
      }
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { src, tgt, events, requested };
}

async function same(): Promise<void> {
  const a = await source.allDocs({ include_docs: true });
  const b = await target.allDocs({ include_docs: true });
  expect(b.rows.map((r) => r.doc)).toEqual(a.rows.map((r) => r.doc));
}

describe('the prefetching pull source', () => {
  it('brings everything once, fetching the next batch before the current one is written', async () => {
    const { src, tgt, events, requested } = observed();
    const out = (await FlintPouchDB.replicate(prefetchingSource(src, (d) => target.revsDiff(d), BATCH), tgt, { batch_size: BATCH })) as unknown as { docs_written: number };
    expect(out.docs_written).toBe(DOCS);
    await same();
    expect(requested).toHaveLength(DOCS); // each document fetched exactly once
    expect(new Set(requested).size).toBe(DOCS);
    // Without prefetch every fetch waits for the write before it; here fetches run ahead.
    const ahead = events.filter((e, i) => e === 'get' && events[i - 1] === 'get').length;
    const overlapped = events.filter((e, i) => e === 'get' && events.slice(0, i).filter((x) => x === 'write-start').length > events.slice(0, i).filter((x) => x === 'write-end').length).length;
    expect(ahead + overlapped).toBeGreaterThanOrEqual(DOCS / BATCH - 2);
  });

  it('never fetches what the target already has', async () => {
    await FlintPouchDB.replicate(source, target, { doc_ids: Array.from({ length: 200 }, (_, i) => `doc-${String(i * 2).padStart(4, '0')}`) } as PouchDB.Replication.ReplicateOptions);
    const { src, tgt, requested } = observed();
    await FlintPouchDB.replicate(prefetchingSource(src, (d) => target.revsDiff(d), BATCH), tgt, { batch_size: BATCH });
    await same();
    expect(requested).toHaveLength(DOCS - 200);
  });

  it('loses nothing when a prefetch fails: the replicator fetches that batch itself', async () => {
    const { src, tgt, requested } = observed(2); // the second call is the first prefetch
    const out = (await FlintPouchDB.replicate(prefetchingSource(src, (d) => target.revsDiff(d), BATCH), tgt, { batch_size: BATCH })) as unknown as { docs_written: number };
    expect(out.docs_written).toBe(DOCS);
    await same();
    expect(requested.length).toBeGreaterThan(DOCS); // the failed batch was asked for twice
  });

  it('tells of each prefetched document, so validation can start early', async () => {
    const told: string[] = [];
    const { src, tgt } = observed();
    await FlintPouchDB.replicate(prefetchingSource(src, (d) => target.revsDiff(d), BATCH, (docs) => told.push(...docs.map((d) => (d as { _id: string })._id))), tgt, { batch_size: BATCH });
    expect(told.length).toBeGreaterThanOrEqual(DOCS - 2 * BATCH);
    expect(new Set(told).size).toBe(told.length);
  });
});

describe('revsDiffOf', () => {
  it('answers exactly what revsDiff answers, for new, known, updated and deleted documents', async () => {
    const a = await source.get('doc-0001');
    const updated = await source.put({ ...a, body: 'changed' });
    const b = await source.get('doc-0002');
    await source.remove(b);
    const diff: Record<string, string[]> = {
      'doc-0000': [(await source.get('doc-0000'))._rev, '2-ffffffffffffffffffffffffffffffff'],
      'doc-0001': [a._rev, updated.rev, '3-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'],
      'doc-0002': [b._rev],
      'never-seen': ['1-dddddddddddddddddddddddddddddddd', '2-cccccccccccccccccccccccccccccccc'],
    };
    const strip = (d: Record<string, { missing?: string[] }>) =>
      Object.fromEntries(Object.entries(d).map(([id, v]) => [id, [...(v.missing ?? [])].sort()]));
    expect(strip(await revsDiffOf(source, diff))).toEqual(strip(await source.revsDiff(diff)));
    expect(await revsDiffOf(source, {})).toEqual({});
  });
});
