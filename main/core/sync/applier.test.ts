/**
 * The applier alone (docs/sync.md, "Receiving"), on real encrypted PouchDBs on disk: the
 * inbox is filled the way the pull replicator fills it (`new_edits: false`, in any order),
 * and the store must only ever hold complete transactions and valid resources.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEncryptedPouch } from '../store/encrypted-pouch';
import { WriteLocks } from '../store/write-locks';
import { createApplier, type Applier } from './applier';

let dir: string;
let inbox: PouchDB.Database;
let store: PouchDB.Database;
let applier: Applier;
let applied: string[];

const open = (name: string) => openEncryptedPouch({ file: join(dir, `${name}.db`), key: randomBytes(32) });

function newApplier(): Applier {
  return createApplier({
    inbox,
    store,
    locks: new WriteLocks(),
    // A stand-in for the FHIR validator: Patients need a name.
    validate: async (rs) => rs.map((r) => (r.resourceType === 'Patient' && !(r as { name?: unknown }).name ? ['required at Patient.name'] : [])),
    afterApply: async (heads) => void applied.push(...heads.map((h) => `${h.type}/${h.id}`)),
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flint-applier-'));
  inbox = await open('inbox');
  store = await open('store');
  applied = [];
  applier = newApplier();
});

afterEach(async () => {
  await applier.close();
  await inbox.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let revCounter = 0;
const rev = () => `${(++revCounter).toString(16).padStart(32, '0')}`;

interface Written {
  version: PouchDB.Core.PutDocument;
  head: PouchDB.Core.PutDocument;
}

/** The two documents one write produces on a workstation (documents.ts), as replicated. */
function write(type: string, id: string, n: number, resource: object | null, tx?: { id: string; size: number }, parentHeadRev?: string): Written {
  const vid = `${n}.wsaaaa`;
  const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  const body = { type, id, vid, n, ts, method: resource ? 'PUT' : 'DELETE', deleted: !resource, ...(tx ? { tx } : {}) };
  const full = resource ? { ...body, resource: { ...resource, resourceType: type, id, meta: { versionId: vid, lastUpdated: ts } } } : body;
  const vrev = rev();
  const hrev = rev();
  const parent = parentHeadRev ? [parentHeadRev.split('-')[1]!] : [];
  return {
    version: { ...full, _id: `h:${type}/${id}/${vid}`, kind: 'version', _rev: `1-${vrev}`, _revisions: { start: 1, ids: [vrev] } },
    head: { ...full, _id: `r:${type}/${id}`, kind: 'head', _rev: `${n}-${hrev}`, _revisions: { start: n, ids: [hrev, ...parent] } },
  };
}

const arrive = (...docs: PouchDB.Core.PutDocument[]) => inbox.bulkDocs(docs, { new_edits: false });
const inStore = async (id: string) => store.get(id).then(() => true, () => false);

describe('the applier', () => {
  it('applies a head only once its version is there, whatever the arrival order', async () => {
    const w = write('Patient', 'p1', 1, { name: [{ family: 'A' }] });
    await arrive(w.head);
    expect((await applier.run()).waiting).toBe(1);
    expect(await inStore('r:Patient/p1')).toBe(false);
    await arrive(w.version);
    const r = await applier.run();
    expect(r).toMatchObject({ applied: 2, resources: 1, waiting: 0 });
    expect(await inStore('r:Patient/p1')).toBe(true);
    expect(applied).toEqual(['Patient/p1']);
  });

  it('exposes a transaction all at once, never a part of it', async () => {
    const tx = { id: 'tx-1', size: 6 };
    const ws = [write('Patient', 't1', 1, { name: [{ family: 'T' }] }, tx), write('Observation', 'o1', 1, { status: 'final', code: {} }, tx), write('Observation', 'o2', 1, { status: 'final', code: {} }, tx)];
    // Everything but the last version: nothing may show.
    await arrive(ws[0]!.head, ws[0]!.version, ws[1]!.head, ws[1]!.version, ws[2]!.head);
    await applier.run();
    for (const id of ['r:Patient/t1', 'h:Patient/t1/1.wsaaaa', 'r:Observation/o1', 'r:Observation/o2']) expect(await inStore(id)).toBe(false);
    await arrive(ws[2]!.version);
    expect((await applier.run()).applied).toBe(6);
    for (const id of ['r:Patient/t1', 'h:Patient/t1/1.wsaaaa', 'r:Observation/o1', 'r:Observation/o2', 'h:Observation/o2/1.wsaaaa']) expect(await inStore(id)).toBe(true);
  });

  it('quarantines an invalid resource, its head, and its whole transaction', async () => {
    const tx = { id: 'tx-bad', size: 4 };
    const good = write('Observation', 'ok', 1, { status: 'final', code: {} }, tx);
    const bad = write('Patient', 'bad', 1, {}, tx); // no name: invalid for the stand-in validator
    await arrive(good.head, good.version, bad.head, bad.version);
    const r = await applier.run();
    expect(r.applied).toBe(0);
    expect(r.quarantined).toBe(4);
    const q = await applier.quarantine();
    expect(q.map((e) => e.doc).sort()).toEqual(['h:Observation/ok/1.wsaaaa', 'h:Patient/bad/1.wsaaaa', 'r:Observation/ok', 'r:Patient/bad']);
    expect(q.find((e) => e.doc === 'r:Patient/bad')?.reason).toMatch(/Patient\.name/);
    expect(await inStore('r:Observation/ok')).toBe(false);
    // The quarantine outlives a restart.
    await applier.close();
    applier = newApplier();
    expect((await applier.quarantine()).length).toBe(4);
  });

  it('clears a quarantined head once a valid later revision of it is applied', async () => {
    const bad = write('Patient', 'fix', 1, {});
    await arrive(bad.version, bad.head);
    await applier.run();
    expect((await applier.quarantine()).map((e) => e.doc).sort()).toEqual(['h:Patient/fix/1.wsaaaa', 'r:Patient/fix']);
    const fixed = write('Patient', 'fix', 2, { name: [{ family: 'Fixed' }] }, undefined, bad.head._rev);
    await arrive(fixed.version, fixed.head);
    expect((await applier.run()).resources).toBe(1);
    // The head is good now; the invalid first version stays quarantined (and out of the store).
    expect((await applier.quarantine()).map((e) => e.doc)).toEqual(['h:Patient/fix/1.wsaaaa']);
    expect(await inStore('h:Patient/fix/1.wsaaaa')).toBe(false);
    expect(((await store.get('r:Patient/fix')) as { vid: string }).vid).toBe('2.wsaaaa');
  });

  it('refuses malformed documents and a second revision of a version', async () => {
    const w = write('Patient', 'm1', 1, { name: [{ family: 'M' }] });
    const wrongId = { ...w.version, _id: 'h:Patient/other/1.wsaaaa' };
    await arrive(wrongId);
    await applier.run();
    expect((await applier.quarantine()).map((e) => e.reason)).toEqual(['the document id does not match its type, id and vid']);
    await arrive(w.version, w.head);
    expect((await applier.run()).applied).toBe(2);
    const vrev = (w.version._revisions as { ids: string[] }).ids[0]!;
    const edited = { ...w.version, resource: { ...(w.version.resource as object), name: [{ family: 'Rewritten' }] }, _rev: `2-${rev()}`, _revisions: { start: 2, ids: [rev(), vrev] } };
    await arrive(edited);
    await applier.run();
    expect((await applier.quarantine()).some((e) => e.doc === 'h:Patient/m1/1.wsaaaa' && /changed or deleted/.test(e.reason))).toBe(true);
    expect(((await store.get('h:Patient/m1/1.wsaaaa')) as { resource: { name: Array<{ family: string }> } }).resource.name[0]!.family).toBe('M');
  });

  it('keeps concurrent heads as a CouchDB conflict, with both versions in the store', async () => {
    const base = write('Patient', 'c1', 1, { name: [{ family: 'Base' }] });
    await store.bulkDocs([base.version, base.head], { new_edits: false });
    const fromB = write('Patient', 'c1', 2, { name: [{ family: 'B' }] }, undefined, base.head._rev);
    fromB.version._id = 'h:Patient/c1/2.wsbbbb';
    for (const d of [fromB.version, fromB.head]) {
      d['vid'] = '2.wsbbbb';
      (d['resource'] as { meta: { versionId: string } }).meta.versionId = '2.wsbbbb';
    }
    // A local edit on top of the same base, then B's edit arrives.
    const local = write('Patient', 'c1', 2, { name: [{ family: 'A' }] }, undefined, base.head._rev);
    await store.bulkDocs([local.version, local.head], { new_edits: false });
    await arrive(fromB.version, fromB.head);
    expect((await applier.run()).applied).toBe(2);
    const head = await store.get('r:Patient/c1', { conflicts: true });
    expect(head._conflicts).toHaveLength(1);
    expect(await inStore('h:Patient/c1/2.wsbbbb')).toBe(true);
    expect(await inStore('h:Patient/c1/2.wsaaaa')).toBe(true);
  });

  it('replays harmlessly after a restart that lost its checkpoint', async () => {
    const w = write('Patient', 'r1', 1, { name: [{ family: 'R' }] });
    await arrive(w.version, w.head);
    expect((await applier.run()).applied).toBe(2);
    const seqBefore = (await store.info()).update_seq;
    await inbox.remove((await inbox.get('_local/flint-applier')) as PouchDB.Core.Document);
    await applier.close();
    applier = newApplier();
    expect((await applier.run()).applied).toBe(0);
    expect((await store.info()).update_seq).toBe(seqBefore);
  });

  it('writes what a pulled batch completes on its own straight to the store, and leaves the rest for the inbox', async () => {
    const whole = write('Patient', 'd1', 1, { name: [{ family: 'Whole' }] });
    const headOnly = write('Patient', 'd2', 1, { name: [{ family: 'Later' }] });
    const invalid = write('Patient', 'd3', 1, {});
    const tx = { id: 'tx-split', size: 4 };
    const txA = write('Patient', 'd4', 1, { name: [{ family: 'Tx' }] }, tx);
    const txB = write('Observation', 'd5', 1, { status: 'final', code: {} }, tx);
    const batch = [whole.version, whole.head, headOnly.head, invalid.version, invalid.head, txA.version, txA.head, txB.head];
    const { rest, applied: n } = await applier.intake(batch);
    expect(n).toBe(2);
    expect(await inStore('r:Patient/d1')).toBe(true);
    expect(await inStore('h:Patient/d1/1.wsaaaa')).toBe(true);
    expect(rest.map((d) => d._id).sort()).toEqual(['h:Patient/d3/1.wsaaaa', 'h:Patient/d4/1.wsaaaa', 'r:Observation/d5', 'r:Patient/d2', 'r:Patient/d3', 'r:Patient/d4']);
    for (const id of ['r:Patient/d2', 'r:Patient/d3', 'r:Patient/d4', 'r:Observation/d5']) expect(await inStore(id)).toBe(false);
    // The rest goes through the inbox as before: quarantined, or applied once complete.
    await arrive(...rest);
    expect((await applier.run()).quarantined).toBe(2);
    const second = await applier.intake([headOnly.version, txB.version]);
    expect(second.rest.map((d) => d._id).sort()).toEqual(['h:Observation/d5/1.wsaaaa', 'h:Patient/d2/1.wsaaaa']); // their heads wait in the inbox
    await arrive(...second.rest);
    expect((await applier.run()).applied).toBe(6);
    for (const id of ['r:Patient/d2', 'r:Patient/d4', 'r:Observation/d5']) expect(await inStore(id)).toBe(true);
    expect(await inStore('r:Patient/d3')).toBe(false);
  });

  it('sends a resource with documents waiting in the inbox through the inbox, behind them', async () => {
    const tx = { id: 'tx-wait', size: 4 };
    const first = write('Patient', 'w1', 1, { name: [{ family: 'First' }] }, tx);
    await arrive(first.version, first.head); // its transaction's other half is not here
    await applier.run();
    const next = write('Patient', 'w1', 2, { name: [{ family: 'Next' }] }, undefined, first.head._rev);
    const { rest, applied: n } = await applier.intake([next.version, next.head]);
    expect(n).toBe(0);
    expect(rest).toHaveLength(2);
    expect(await inStore('r:Patient/w1')).toBe(false);
  });

  it('refuses a head whose resource differs from its version document, and not one whose keys are merely in another order', async () => {
    const w = write('Patient', 'x1', 1, { name: [{ family: 'True' }], gender: 'female' });
    const tampered = { ...w.head, resource: { ...(w.head.resource as object), name: [{ family: 'Forged' }] } };
    const { rest, applied: n } = await applier.intake([w.version, tampered]);
    expect(n).toBe(0);
    await arrive(...rest);
    expect((await applier.run()).quarantined).toBe(2);
    const q = await applier.quarantine();
    expect(q.map((e) => e.reason)).toEqual(['the head and its version document carry different resources', 'the head and its version document carry different resources']);
    expect(await inStore('r:Patient/x1')).toBe(false);

    const v = write('Patient', 'x2', 1, { name: [{ family: 'Same' }], gender: 'male' });
    const r = v.head.resource as Record<string, unknown>;
    const reordered = { ...v.head, resource: Object.fromEntries(Object.entries(r).reverse()) };
    expect((await applier.intake([v.version, reordered])).applied).toBe(2);
    expect(await inStore('r:Patient/x2')).toBe(true);
  });

  it('is not settled while a write it made visible is still being indexed (read and search agree)', async () => {
    await applier.close();
    let finishIndexing!: () => void;
    const indexing = new Promise<void>((r) => (finishIndexing = r));
    applier = createApplier({
      inbox,
      store,
      locks: new WriteLocks(),
      validate: async (rs) => rs.map(() => []),
      afterApply: () => indexing, // committed, not yet indexed until the test says so
    });
    try {
      expect(applier.settled()).toBeUndefined();
      const w = write('Patient', 's1', 1, { name: [{ family: 'S' }] });
      // intake runs afterApply in the background: it resolves while the index still lags.
      expect((await applier.intake([w.version, w.head])).applied).toBe(2);
      expect(await inStore('r:Patient/s1')).toBe(true);
      const settled = applier.settled();
      expect(settled).toBeInstanceOf(Promise);
      let done = false;
      void settled!.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(done).toBe(false);
      finishIndexing();
      await settled;
      expect(done).toBe(true);
    } finally {
      finishIndexing();
    }
    expect(applier.settled()).toBeUndefined();
  });
});
