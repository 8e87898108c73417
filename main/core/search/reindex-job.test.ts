/**
 * The search index rebuild job (reindex-job.ts): its status and events, one at a time (409),
 * failure in words; then the real thing on an encrypted store and index (random keys, temp
 * dir, no keychain): progress in resources, processed == total when done.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { serviceUnavailable } from '../../../shared/fhir/outcome';
import type { ReindexStatus } from '../../../shared/api/reindex';
import { loadDefinitions } from '../fhir/definitions';
import type { DataDir } from '../store/data-dir';
import { openEncryptedPouch } from '../store/encrypted-pouch';
import { ResourceStore } from '../store/resource-store';
import { indexedResources, reindex } from './custom-params';
import { IndexSearch } from './index-search';
import { openSearchIndex } from './open-search-index';
import { createReindexJob, createSearchReindexJob, type ReindexProgressFn } from './reindex-job';

/** A run the test drives by hand: report progress, then finish or fail. */
function manualRun() {
  let report: ReindexProgressFn = () => undefined;
  let finish: (resources: number) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  const run = (onProgress: ReindexProgressFn) => {
    report = onProgress;
    return new Promise<{ resources: number; tag: string }>((resolve, reject) => {
      finish = (resources) => resolve({ resources, tag: 'result' });
      fail = reject;
    });
  };
  return { run, report: (p: number, t: number) => report(p, t), finish: (n: number) => finish(n), fail: (e: unknown) => fail(e) };
}

const collect = (events: ReturnType<ReturnType<typeof createReindexJob>['events']>) => firstValueFrom(events.pipe(toArray()));

describe('the rebuild job', () => {
  it('starts running with the estimate, reports progress, ends done with processed == total; events end with it', async () => {
    const m = manualRun();
    const done: unknown[] = [];
    let clock = Date.parse('2026-03-01T08:00:00.000Z');
    const job = createReindexJob({ estimate: () => 300, run: m.run, onDone: (r) => done.push(r), intervalMs: 0, now: () => clock });
    expect(job.status()).toEqual({ state: 'idle', processed: 0, total: 0 });
    // Nothing runs: the stream gives the status and ends.
    expect(await collect(job.events())).toEqual([{ state: 'idle', processed: 0, total: 0 }]);

    const started = job.start();
    expect(started.status).toEqual({ state: 'running', processed: 0, total: 300, startedAt: '2026-03-01T08:00:00.000Z' });
    const events = collect(job.events());
    m.report(120, 300);
    clock += 1000;
    m.report(250, 300);
    m.report(310, 305); // writes meanwhile: never processed > total
    expect(job.status()).toMatchObject({ state: 'running', processed: 310, total: 310 });
    clock += 1000;
    m.finish(312);
    await expect(started.done).resolves.toEqual({ resources: 312, tag: 'result' });
    const final = { state: 'done', processed: 312, total: 312, startedAt: '2026-03-01T08:00:00.000Z', finishedAt: '2026-03-01T08:00:02.000Z' };
    expect(job.status()).toEqual(final);
    const seen = await events;
    expect(seen.map((s) => [s.state, s.processed, s.total])).toEqual([
      ['running', 0, 300],
      ['running', 120, 300],
      ['running', 250, 300],
      ['running', 310, 310],
      ['done', 312, 312],
    ]);
    expect(seen.at(-1)).toEqual(final);
    expect(done).toEqual([{ resources: 312, tag: 'result' }]);
    // Afterwards the stream gives the last status and ends.
    expect(await collect(job.events())).toEqual([final]);
  });

  it('refuses a second start while one runs (409), and starts again once it ended', async () => {
    const m = manualRun();
    const job = createReindexJob({ estimate: () => 10, run: m.run });
    const first = job.start();
    expect(() => job.start()).toThrow(expect.objectContaining({ status: 409 }));
    expect(job.status().state).toBe('running');
    m.finish(10);
    await first.done;
    const second = job.start();
    expect(second.status).toMatchObject({ state: 'running', processed: 0, total: 10 });
    m.finish(11);
    await expect(second.done).resolves.toMatchObject({ resources: 11 });
  });

  it('fails in words without quoting the error, logs where only, and can be started again', async () => {
    const m = manualRun();
    const faults: string[] = [];
    const job = createReindexJob({ estimate: () => 50, run: m.run, logFault: (f) => faults.push(f), intervalMs: 0 });
    const events = collect(job.events().pipe());
    const started = job.start();
    m.report(20, 50);
    m.fail(new Error('Patient/p1 family "Smith" broke the extractor'));
    await expect(started.done).rejects.toThrow(/Smith/); // whoever waits ($reindex) gets the error itself
    const s = job.status();
    expect(s).toMatchObject({ state: 'failed', processed: 20, total: 50 });
    expect(s.finishedAt).toBeDefined();
    expect(s.error).toMatch(/could not be rebuilt.*start it again/);
    expect(JSON.stringify(s)).not.toMatch(/Smith|Patient\/p1/);
    expect(faults).toHaveLength(1);
    expect(faults[0]).not.toMatch(/Smith/);
    expect((await events).map((e) => e.state)).toEqual(['idle']); // subscribed before the start: the idle stream had ended
    // Our own refusals are words already: they are shown.
    const again = job.start();
    m.fail(serviceUnavailable('The search index is already being rebuilt'));
    await expect(again.done).rejects.toMatchObject({ status: 503 });
    expect(job.status().error).toBe('The search index could not be rebuilt: The search index is already being rebuilt');
  });

  it('an unawaited failure is no unhandled rejection', async () => {
    const m = manualRun();
    const job = createReindexJob({ estimate: () => 1, run: m.run });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      job.start();
      m.fail(new Error('boom'));
      await new Promise((r) => setTimeout(r, 20));
      expect(job.status().state).toBe('failed');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('emits progress at most every intervalMs, never losing the last one', async () => {
    const m = manualRun();
    let clock = 0;
    const job = createReindexJob({ estimate: () => 100, run: m.run, intervalMs: 50, now: () => clock });
    const seen: ReindexStatus[] = [];
    job.start();
    const sub = job.events().subscribe((s) => seen.push(s));
    m.report(10, 100); // within 50 ms of the start: held back
    m.report(20, 100);
    expect(seen.map((s) => s.processed)).toEqual([0]);
    clock = 60;
    await new Promise((r) => setTimeout(r, 80)); // the trailing emission
    expect(seen.map((s) => s.processed)).toEqual([0, 20]);
    m.finish(100);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.map((s) => s.state)).toEqual(['running', 'running', 'done']);
    expect(sub.closed).toBe(true);
  });
});

describe('the server\'s rebuild on a real store and index', () => {
  it('reports resources against the count the index held, ends with processed == total, and refuses searches meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-reindex-job-'));
    const keys = { store: randomBytes(32), index: randomBytes(32) };
    const dataDir = { dir, storeFile: (n: string) => join(dir, `${n}.db`), purposeKey: (p: string) => Buffer.from(p === 'index' ? keys.index : keys.store) } as unknown as DataDir;
    const db = await openEncryptedPouch({ file: dataDir.storeFile('store'), key: keys.store });
    const defs = loadDefinitions();
    const searchIndex = openSearchIndex(dataDir, db, defs);
    try {
      const store = new ResourceStore(db, 'wsabcd', () => searchIndex.indexer.catchUp());
      const patient = (id: string, family: string): Resource => ({ resourceType: 'Patient', id, name: [{ family }] });
      for (let i = 0; i < 40; i++) {
        const id = `p${i}`;
        await store.commit([{ type: 'Patient', id, method: 'PUT', resource: patient(id, 'Rebuilt') }], new Map());
      }
      // A second version, and a deletion: neither is a resource more.
      await store.commit([{ type: 'Patient', id: 'p0', method: 'PUT', resource: patient('p0', 'Again') }], await store.heads([{ type: 'Patient', id: 'p0' }]));
      await store.commit([{ type: 'Patient', id: 'p1', method: 'DELETE' }], await store.heads([{ type: 'Patient', id: 'p1' }]));
      expect(indexedResources(searchIndex.index, defs)).toBe(39);

      // custom-params reindex itself: (0, total) first, then each page.
      const calls: Array<[number, number]> = [];
      const changes: number[] = [];
      const r = await reindex(searchIndex, db, defs, (c) => changes.push(c), (p, t) => calls.push([p, t]));
      expect(calls[0]).toEqual([0, 39]);
      expect(calls.at(-1)).toEqual([39, 39]);
      expect(r.resources).toBe(39);
      expect(changes.at(-1)).toBe(r.processed); // the changes read: heads and versions
      expect(r.processed).toBeGreaterThan(39);

      const search = new IndexSearch(searchIndex.index);
      const job = createSearchReindexJob({ searchIndex, db, base: defs, search });
      const started = job.start();
      expect(started.status).toMatchObject({ state: 'running', processed: 0, total: 39 });
      expect(() => search.matchIds('Patient', [])).toThrow(expect.objectContaining({ status: 503 }));
      const result = await started.done;
      expect(result.resources).toBe(39);
      expect(job.status()).toMatchObject({ state: 'done', processed: 39, total: 39 });
      expect(search.matchIds('Patient', [])).toHaveLength(39);
    } finally {
      await searchIndex.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
