/** The pull's catch-up progress (pull-progress.ts) against a hand-driven source and replicator. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createPullProgress, remainingChanges, seqNumber, type PullProgress } from './pull-progress';

/** A remote with a given info whose changes feed the test feeds by hand. */
function fakeSource(info: object) {
  const feeds: EventEmitter[] = [];
  const sinces: unknown[] = [];
  const source = {
    name: 'remote',
    info: async () => info,
    changes(opts: { since?: unknown }) {
      sinces.push(opts.since);
      const feed = new EventEmitter();
      feeds.push(feed);
      return feed;
    },
  } as unknown as PouchDB.Database;
  const rows = (from: number, to: number) => {
    for (let s = from; s <= to; s++) feeds.at(-1)!.emit('change', { id: `h:Patient/p${s}/1.ws`, seq: s, changes: [{ rev: '1-a' }] });
  };
  return { source, rows, sinces };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function tracker(threshold = 500) {
  const reports: Array<PullProgress | undefined> = [];
  const t = createPullProgress({ threshold, intervalMs: 0, report: (p) => reports.push(p) });
  return { t, reports };
}

describe('estimates', () => {
  it('reads sequences as CouchDB and PouchDB write them', () => {
    expect(seqNumber(42)).toBe(42);
    expect(seqNumber('1234-g1AAAAB3eJzLYWBgYMpgTmHgz8tPSTV0MDQy')).toBe(1234);
    expect(seqNumber(undefined)).toBeNaN();
  });

  it('from no checkpoint: every document once (live and deleted)', () => {
    expect(remainingChanges({ doc_count: 1000, doc_del_count: 3, update_seq: 5000 }, 0)).toBe(1003);
    expect(remainingChanges({ doc_count: 1000, update_seq: '5000-xyz' }, '0')).toBe(1000);
  });

  it('from a checkpoint: the updates since, at most the documents there are', () => {
    expect(remainingChanges({ doc_count: 100_000, update_seq: 90_000 }, 60_000)).toBe(30_000);
    expect(remainingChanges({ doc_count: 100, update_seq: '9000-x' }, '1000-y')).toBe(100);
    expect(remainingChanges({ doc_count: 10, update_seq: 5 }, 7)).toBe(0);
    expect(remainingChanges({ doc_count: 10, update_seq: 'odd' }, 7)).toBeUndefined();
  });
});

describe('the tracker', () => {
  it('shows a first sync of more than the threshold, counts batches as they are checkpointed, and goes away when idle', async () => {
    const { t, reports } = tracker();
    const f = fakeSource({ doc_count: 1200, doc_del_count: 0, update_seq: 1500 });
    const src = t.wrap(f.source);
    src.changes({ since: 0 });
    expect(f.sinces).toEqual([0]);
    f.rows(1, 600); // the replicator reads ahead of what it writes
    await tick();
    expect(reports).toEqual([{ received: 0, total: 1200 }]);
    t.checkpoint(400);
    expect(reports.at(-1)).toEqual({ received: 400, total: 1200 });
    f.rows(601, 1200);
    t.checkpoint(800);
    t.checkpoint(1200);
    expect(reports.at(-1)).toEqual({ received: 1200, total: 1200 });
    expect(t.current()).toEqual({ received: 1200, total: 1200 });
    t.checkpoint(1500); // caught up: a last_seq checkpoint with no batch
    t.idle();
    expect(reports.at(-1)).toBeUndefined();
    expect(t.current()).toBeUndefined();
  });

  it('counts what was written before the estimate came, and never shows more received than total', async () => {
    const { t, reports } = tracker();
    const f = fakeSource({ doc_count: 600, update_seq: 600 });
    t.wrap(f.source).changes({ since: 0 });
    f.rows(1, 700); // 100 written since the info was read
    t.checkpoint(300); // before the info answered
    await tick();
    expect(reports).toEqual([{ received: 300, total: 600 }]);
    t.checkpoint(700);
    expect(reports.at(-1)).toEqual({ received: 700, total: 700 });
  });

  it('says nothing for a small catch-up or a pull that is up to date', async () => {
    const { t, reports } = tracker();
    const f = fakeSource({ doc_count: 100_000, update_seq: 100_300 });
    t.wrap(f.source).changes({ since: 100_000 });
    f.rows(100_001, 100_300);
    await tick();
    t.checkpoint(100_300);
    t.idle();
    expect(reports).toEqual([]);
  });

  it('goes on counting across a restart of the pull after a failure', async () => {
    const { t, reports } = tracker();
    const first = fakeSource({ doc_count: 5000, update_seq: 5000 });
    t.wrap(first.source).changes({ since: 0 });
    first.rows(1, 2000);
    await tick();
    t.checkpoint(2000);
    expect(reports.at(-1)).toEqual({ received: 2000, total: 5000 });
    // The server went away; the pull starts again from its checkpoint, 2000.
    const second = fakeSource({ doc_count: 5100, update_seq: 5100 });
    t.wrap(second.source).changes({ since: 2000 });
    second.rows(2001, 4000);
    await tick();
    expect(reports.at(-1)).toEqual({ received: 2000, total: 5100 });
    t.checkpoint(4000);
    expect(reports.at(-1)).toEqual({ received: 4000, total: 5100 });
    t.stop();
    expect(reports.at(-1)).toBeUndefined();
    t.checkpoint(4000);
    expect(reports.at(-1)).toBeUndefined();
  });

  it('reports at most every intervalMs, the last one always', async () => {
    const reports: Array<PullProgress | undefined> = [];
    let clock = 0;
    const t = createPullProgress({ intervalMs: 100, now: () => clock, report: (p) => reports.push(p) });
    const f = fakeSource({ doc_count: 10_000, update_seq: 10_000 });
    t.wrap(f.source).changes({ since: 0 });
    f.rows(1, 3000);
    clock = 1000;
    await tick();
    expect(reports).toHaveLength(1);
    clock = 1010;
    t.checkpoint(1000);
    t.checkpoint(2000);
    expect(reports).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(reports.at(-1)).toEqual({ received: 2000, total: 10_000 });
    expect(reports).toHaveLength(2);
  });
});
