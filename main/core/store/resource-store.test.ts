import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEncryptedPouch } from './encrypted-pouch';
import { ResourceStore, lockKey } from './resource-store';
import { CONFLICT_TAG } from '../../../shared/fhir/sync-tags';

let dir: string;
let db: PouchDB.Database;
let store: ResourceStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flint-store-'));
  db = await openEncryptedPouch({ file: join(dir, 'store.db'), key: randomBytes(32) });
  store = new ResourceStore(db, 'ws0001');
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const basic = (text: string): Resource => ({ resourceType: 'Basic', code: { text } }) as Resource;

describe('ResourceStore', () => {
  it('never stores the sync conflict tag a client sends back', async () => {
    const tagged = { ...basic('x'), meta: { tag: [{ ...CONFLICT_TAG }, { system: 'urn:other', code: 'keep' }] } } as Resource;
    const [v] = await store.commit([{ type: 'Basic', id: 't', method: 'PUT', resource: tagged }], new Map());
    expect(v!.resource?.meta?.tag).toEqual([{ system: 'urn:other', code: 'keep' }]);
    expect(((await db.get('h:Basic/t/1.ws0001')) as { resource: Resource }).resource.meta?.tag).toEqual([{ system: 'urn:other', code: 'keep' }]);
  });

  it('numbers versions per resource, keeps every version and the deletion', async () => {
    const [v1] = await store.commit([{ type: 'Basic', id: 'a', method: 'PUT', resource: basic('one') }], new Map());
    expect(v1!.vid).toBe('1.ws0001');
    const head1 = await store.head('Basic', 'a');
    const [v2] = await store.commit([{ type: 'Basic', id: 'a', method: 'PUT', resource: basic('two') }], new Map([[lockKey('Basic', 'a'), head1!]]));
    expect(v2!.vid).toBe('2.ws0001');
    expect(v2!.ts > v1!.ts).toBe(true);
    const head2 = await store.head('Basic', 'a');
    await store.commit([{ type: 'Basic', id: 'a', method: 'DELETE' }], new Map([[lockKey('Basic', 'a'), head2!]]));
    const history = await store.history({ type: 'Basic', id: 'a' });
    expect(history.map((h) => [h.vid, h.deleted])).toEqual([
      ['3.ws0001', true],
      ['2.ws0001', false],
      ['1.ws0001', false],
    ]);
    expect((await store.version('Basic', 'a', '1.ws0001'))!.resource).toMatchObject({ code: { text: 'one' } });
    expect((await store.head('Basic', 'a'))!.deleted).toBe(true);
  });

  it('reads every current head from the change feed, in pages, without versions and with exact decimals', async () => {
    const writes = Array.from({ length: 25 }, (_, i) => ({ type: 'Basic', id: `b${i}`, method: 'PUT' as const, resource: basic(`v${i}`) }));
    await store.commit(writes, new Map());
    // b0 changed and b1 deleted: their heads show the latest state, each once per change listed.
    await store.commit([{ type: 'Basic', id: 'b0', method: 'PUT', resource: basic('changed') }], new Map([[lockKey('Basic', 'b0'), (await store.head('Basic', 'b0'))!]]));
    await store.commit([{ type: 'Basic', id: 'b1', method: 'DELETE' }], new Map([[lockKey('Basic', 'b1'), (await store.head('Basic', 'b1'))!]]));
    const pages: number[] = [];
    const heads = new Map<string, { text?: string; deleted: boolean }>();
    for await (const page of store.allHeads(10)) {
      pages.push(page.length);
      for (const h of page) heads.set(h.id, { text: (h.resource as { code?: { text?: string } } | undefined)?.code?.text, deleted: h.deleted });
    }
    expect(pages.length).toBeGreaterThan(2); // paged: the feed also holds the 27 version documents
    expect(heads.size).toBe(25);
    expect(heads.get('b0')).toEqual({ text: 'changed', deleted: false });
    expect(heads.get('b1')?.deleted).toBe(true);
    expect(heads.get('b24')).toEqual({ text: 'v24', deleted: false });
  });

  it('groups concurrent commits and answers each once its documents are stored', async () => {
    const commits = Array.from({ length: 40 }, (_, i) =>
      store.commit([{ type: 'Basic', id: `g${i}`, method: 'POST', resource: basic(`g${i}`) }], new Map()),
    );
    const records = await Promise.all(commits);
    expect(records.map((r) => r[0]!.id)).toEqual(Array.from({ length: 40 }, (_, i) => `g${i}`));
    const heads = await store.heads(records.map((r) => ({ type: 'Basic', id: r[0]!.id })));
    expect(heads.size).toBe(40);
  });

  it('fails the commit whose document conflicts, without failing the others in its group', async () => {
    await store.commit([{ type: 'Basic', id: 'c', method: 'PUT', resource: basic('c') }], new Map());
    // A stale head (no _rev) makes the head document conflict: a caller that broke the
    // locking contract must hear about it.
    const bad = store.commit([{ type: 'Basic', id: 'c', method: 'PUT', resource: basic('c2') }], new Map());
    const good = store.commit([{ type: 'Basic', id: 'd', method: 'PUT', resource: basic('d') }], new Map());
    await expect(bad).rejects.toThrow(/store rejected 2 of 2 documents/);
    await expect(good).resolves.toHaveLength(1);
  });
});
