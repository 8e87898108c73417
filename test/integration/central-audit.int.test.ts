/**
 * The central audit copy against a real CouchDB-protocol server (pouchdb-server, as a
 * child process) and real audit logs (temp data dirs, the real keychain): two workstations
 * push their chains push-only into one `clinic-audit` database; ids and links arrive as
 * stored; pushing again (or replaying after a lost checkpoint) adds nothing and makes no
 * conflict; with the design document installed nobody, the server admin included, can
 * change or delete an event; and `flint audit verify --remote` (the built CLI) says OK
 * for an intact copy, then, after the admin removes the design document and tampers,
 * reports every edit and gap of that workstation while the other still verifies.
 */
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../../main/core/audit/__fixtures__/events';
import { hashEvent } from '../../main/core/audit/audit-chain';
import { openAuditLogOf, type AuditLog } from '../../main/core/audit/audit-log';
import type { StoredEvent } from '../../main/core/audit/types';
import { KeytarSecretStore } from '../../main/core/secrets/keytar-secret-store';
import { openDataDir, type DataDir } from '../../main/core/store/data-dir';
import { AUDIT_DESIGN_ID, installAuditDesign } from '../../main/core/sync/audit-design';
import { auditCheckpointId, createAuditPusher, type AuditEventDoc } from '../../main/core/sync/audit-push';
import { verifyRemoteAudit } from '../../main/core/sync/audit-remote-verify';
import { RemoteError, type RemoteEndpoint } from '../../main/core/sync/remote';
import { startCouchServer, type CouchServer } from '../support/couch-server';
import { runFlint } from '../support/flint-process';
import { forgetDataDir, KEYCHAIN_SERVICE } from '../support/keychain';
import { tempDataDir } from '../support/workstation';

const DB = 'clinic-audit';
const SYNC_USER = { username: 'flint-sync', password: 'sync password 123' };

interface Workstation {
  id: string;
  dataDir: DataDir;
  log: AuditLog;
}

let couch: CouchServer;
let auditUrl: string;
let member: RemoteEndpoint;
let adminEndpoint: RemoteEndpoint;
const workstations: Workstation[] = [];
let a: Workstation;
let b: Workstation;

/** A data dir with a real audit log (direct mode) holding `count` events, one a minute. */
async function workstation(count: number, patientPrefix: string): Promise<Workstation> {
  const secrets = new KeytarSecretStore();
  const dataDir = await openDataDir(tempDataDir('flint-central-audit-'), secrets);
  const log = await openAuditLogOf(dataDir, secrets);
  const ws = { id: dataDir.workstationId, dataDir, log };
  workstations.push(ws);
  await append(ws, count, patientPrefix);
  return ws;
}

async function append(ws: Workstation, count: number, patientPrefix: string): Promise<void> {
  const t0 = Date.parse('2026-03-01T08:00:00.000Z') + ws.log.count() * 60_000;
  // Concurrent appends, as requests make them: several groups, one chain.
  await Promise.all(Array.from({ length: count }, (_, i) => ws.log.append([auditEvent(new Date(t0 + i * 60_000), `${patientPrefix}${i}`)])));
}

const pusher = (ws: Workstation, batchSize?: number) =>
  createAuditPusher({ log: ws.log, workstationId: ws.id, endpoint: member, auditUrl, ...(batchSize ? { batchSize } : {}) });

/** Every event document of the audit database, by id. */
async function serverDocs(): Promise<Map<string, AuditEventDoc & { _conflicts?: string[] }>> {
  const r = await couch.request('GET', `/${DB}/_all_docs?include_docs=true&conflicts=true`);
  expect(r.status).toBe(200);
  const rows = (r.json.rows as { id: string; doc: AuditEventDoc }[]).filter((row) => !row.id.startsWith('_design/'));
  return new Map(rows.map((row) => [row.id, row.doc]));
}

/** `flint audit verify --remote` as the sync user (or another), the password on stdin. */
const verifyCli = ({ url = auditUrl, username = SYNC_USER.username, password = SYNC_USER.password } = {}) =>
  runFlint(['audit', 'verify', '--remote', url, '--username', username], { input: `${password}\n` });

beforeAll(async () => {
  couch = await startCouchServer();
  await couch.createUser(SYNC_USER.username, SYNC_USER.password, ['flint-sync']);
  await couch.createDatabase(DB, [SYNC_USER.username]);
  auditUrl = couch.dbUrl(DB);
  member = { url: auditUrl, ...SYNC_USER };
  adminEndpoint = { url: auditUrl, ...couch.admin };
  a = await workstation(30, 'pa');
  b = await workstation(12, 'pb');
});

afterAll(async () => {
  for (const ws of workstations) {
    await ws.log.close().catch(() => undefined);
    await ws.dataDir.release().catch(() => undefined);
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${ws.id}/audit-head`).catch(() => false);
    await forgetDataDir(ws.dataDir.dir);
  }
  await couch?.close();
});

describe('central audit push', () => {
  it('the test server enforces _security members and lets _users log in with Basic auth', async () => {
    expect((await couch.request('GET', `/${DB}`, undefined, SYNC_USER)).status).toBe(200);
    expect((await couch.request('GET', `/${DB}`, undefined, { ...SYNC_USER, password: 'wrong' })).status).toBe(401);
    expect((await couch.request('GET', `/${DB}`, undefined, null)).status).toBe(401);
    await couch.createUser('outsider', 'outsider password');
    expect((await couch.request('GET', `/${DB}`, undefined, { username: 'outsider', password: 'outsider password' })).status).toBe(401);
  });

  it('pushes every event in batches as <ws>-<seq>, with the chain links as stored', async () => {
    const p = pusher(a, 7); // 30 events: 5 batches, the last one short
    expect(await p.pushOnce()).toEqual({ pushed: 30 });
    expect(p.checkpoint()).toBe(30);
    const docs = await serverDocs();
    expect(docs.size).toBe(30);
    const stored = [...a.log.scan()];
    expect(stored).toHaveLength(30);
    let prev = '';
    for (const e of stored) {
      const doc = docs.get(`${a.id}-${e.seq}`);
      expect(doc, e.id).toBeDefined();
      expect(doc).toMatchObject({ _id: e.id, _rev: `1-${e.hash.slice(0, 32)}`, workstation: a.id, seq: e.seq, prev: e.prev, hash: e.hash });
      expect(doc!.prev).toBe(prev);
      expect(doc!.event).toEqual(e.event);
      expect(doc!.event.id).toBe(`${a.id}-${e.seq}`);
      prev = e.hash;
    }
    const cp = await couch.request('GET', `/${DB}/${auditCheckpointId(a.id)}`, undefined, SYNC_USER);
    expect(cp.json.seq).toBe(30);
  });

  it('a second push sends nothing; new events follow; a replay from scratch is a no-op without conflicts', async () => {
    expect(await pusher(a).pushOnce()).toEqual({ pushed: 0 }); // a fresh pusher reads the checkpoint
    await append(a, 5, 'pa-late');
    const p = pusher(a);
    expect(await p.pushOnce()).toEqual({ pushed: 5 });
    expect(await p.pushOnce()).toEqual({ pushed: 0 });
    // The checkpoint is lost (a crash before it was written, a restored server): everything is sent again.
    const cp = await couch.request('GET', `/${DB}/${auditCheckpointId(a.id)}`);
    expect((await couch.request('DELETE', `/${DB}/${auditCheckpointId(a.id)}?rev=${cp.json._rev}`)).status).toBe(200);
    expect(await pusher(a).pushOnce()).toEqual({ pushed: 35 });
    const docs = await serverDocs();
    expect(docs.size).toBe(35);
    for (const doc of docs.values()) {
      expect(doc._rev).toBe(`1-${doc.hash.slice(0, 32)}`);
      expect(doc._conflicts).toBeUndefined();
    }
  });

  it('with the design document installed, nobody can change or delete an event, and replays still pass', async () => {
    expect(await installAuditDesign(adminEndpoint, auditUrl)).toBe('created');
    expect(await installAuditDesign(adminEndpoint, auditUrl)).toBe('unchanged');
    const id = `${a.id}-3`;
    const before = (await couch.request('GET', `/${DB}/${id}`)).json as AuditEventDoc;
    const edited = { ...before, event: { ...before.event, outcome: '8' } };
    expect((await couch.request('PUT', `/${DB}/${id}`, edited, SYNC_USER)).status).toBe(403);
    expect((await couch.request('PUT', `/${DB}/${id}`, edited)).status).toBe(403); // the server admin
    expect((await couch.request('DELETE', `/${DB}/${id}?rev=${before._rev}`)).status).toBe(403);
    expect((await couch.request('DELETE', `/${DB}/${id}?rev=${before._rev}`, undefined, SYNC_USER)).status).toBe(403);
    // Nor through the replication path, as a second revision or as a conflicting first one.
    const second = { ...edited, _rev: `2-${'0'.repeat(32)}`, _revisions: { start: 2, ids: ['0'.repeat(32), before._rev.slice(2)] } };
    const sneaky = { ...edited, _rev: `1-${'f'.repeat(32)}` };
    const bulk = await couch.request('POST', `/${DB}/_bulk_docs`, { new_edits: false, docs: [second, sneaky] });
    expect(bulk.json).toEqual([expect.objectContaining({ id, error: 'forbidden' }), expect.objectContaining({ id, error: 'forbidden' })]);
    // Not even a new document that is not an event of its own id.
    const { _rev: _unused, ...copy } = before;
    expect((await couch.request('PUT', `/${DB}/${b.id}-99`, { ...copy, _id: `${b.id}-99` }, SYNC_USER)).status).toBe(403);
    const after = (await couch.request('GET', `/${DB}/${id}?conflicts=true`)).json;
    expect(after).toEqual(before);

    // A lost checkpoint again: the server refuses the replayed revisions it already has
    // (pouchdb-server runs the validator for them), and the pusher takes that as the no-op it is.
    const cp = await couch.request('GET', `/${DB}/${auditCheckpointId(a.id)}`);
    expect((await couch.request('DELETE', `/${DB}/${auditCheckpointId(a.id)}?rev=${cp.json._rev}`)).status).toBe(200);
    expect(await pusher(a, 10).pushOnce()).toEqual({ pushed: 35 });

    // Another event under an existing id (a rewritten local log) is refused, and says so.
    const first = a.log.get(`${a.id}-1`)!;
    const otherEvent = { ...first.event, outcome: '4' as const };
    const impostor: StoredEvent = { ...first, event: otherEvent, hash: hashEvent('', otherEvent) };
    let calls = 0;
    const rogue = createAuditPusher({ log: { range: () => (calls++ === 0 ? [impostor] : []), lastSeq: () => 1 }, workstationId: a.id, endpoint: member, auditUrl });
    const err = await rogue.pushOnce().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ status: 403 });
    expect((err as Error).message).toMatch(new RegExp(`audit event ${a.id}-1: .*written once`));
  });

  it('a second workstation pushes into the same database; both verify OK with flint audit verify --remote', async () => {
    const pushB = pusher(b);
    expect(pushB.pending()).toBeUndefined(); // the server's checkpoint is not known yet
    expect(await pushB.pushOnce()).toEqual({ pushed: 12 });
    expect(pushB.pending()).toBe(0);
    const docs = await serverDocs();
    expect([...docs.keys()].filter((id) => id.startsWith(`${b.id}-`)).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `${b.id}-${i + 1}`).sort(),
    );
    const r = await verifyCli();
    expect(r.code, r.stderr).toBe(0);
    const lines = [`OK ${a.id}: 35 events, chain intact`, `OK ${b.id}: 12 events, chain intact`].sort();
    expect(r.stdout).toBe(`${lines.join('\n')}\n`);
    expect(r.stderr).toBe(''); // the design document is there: no warning
  });

  it('verify --remote: usage errors exit 2; refused credentials, a missing database, an unreachable server exit 1', async () => {
    const noUser = await runFlint(['audit', 'verify', '--remote', auditUrl], { input: 'x\n' });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--username/);
    const withDir = await runFlint(['audit', 'verify', '--remote', auditUrl, '--username', 'u', '--data-dir', '/tmp/x'], { input: 'x\n' });
    expect(withDir.code).toBe(2);
    const badUrl = await runFlint(['audit', 'verify', '--remote', 'ftp://x/y', '--username', 'u'], { input: 'x\n' });
    expect(badUrl.code).toBe(2);
    expect((await runFlint(['audit', '--help'])).stdout).toMatch(/flint audit verify --remote URL --username USER/);

    const wrong = await verifyCli({ password: 'not the password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/refused the credentials of flint-sync/);
    expect(wrong.stderr).not.toMatch(/not the password/);
    const noDb = await verifyCli({ url: couch.dbUrl('no-such-audit'), ...couch.admin });
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/there is no database at .*no-such-audit/);

    await couch.stop();
    try {
      const down = await verifyCli();
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/could not be reached \(ECONNREFUSED\)/);
      const err = await pusher(b).pushOnce().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject({ status: 0 });
    } finally {
      await couch.restart(); // same port, same files
    }
    expect((await verifyCli()).code).toBe(0);
  });

  it('after the admin removes the design document and tampers, verify --remote reports every edit and gap of that workstation only', async () => {
    const design = await couch.request('GET', `/${DB}/${AUDIT_DESIGN_ID}`);
    expect((await couch.request('DELETE', `/${DB}/${AUDIT_DESIGN_ID}?rev=${design.json._rev}`)).status).toBe(200);
    const doc = async (seq: number) => (await couch.request('GET', `/${DB}/${a.id}-${seq}`)).json as AuditEventDoc;
    const put = async (d: AuditEventDoc) => expect((await couch.request('PUT', `/${DB}/${d._id}`, d)).status).toBe(201);
    const del = async (d: AuditEventDoc) => expect((await couch.request('DELETE', `/${DB}/${d._id}?rev=${d._rev}`)).status).toBe(200);

    // A plain edit of the content.
    const e5 = await doc(5);
    expect(e5.event.entity?.[0]?.what?.reference).toBe('Patient/pa4');
    await put({ ...e5, event: { ...e5.event, entity: [{ what: { reference: 'Patient/someone-else' } }] } });
    // A careful edit: the content changed and its hash recomputed, so only the next link shows it.
    const e20 = await doc(20);
    const forged = { ...e20.event, outcome: '8' as const };
    await put({ ...e20, event: forged, hash: hashEvent(e20.prev, forged) });
    // Deletions: one in the middle, the newest one.
    await del(await doc(9));
    await del(await doc(35));

    const expected = [
      'event 5 was changed on the server (revision 2)',
      'event 5: its content does not match its hash (changed after it was written)',
      'event 9 is missing',
      'event 20 was changed on the server (revision 2)',
      'event 21: its link to the previous event is broken (prev is not the previous hash)',
      "event 35 is missing (the workstation's push checkpoint is at 35)",
    ];
    const report = await verifyRemoteAudit(member, auditUrl, { pageSize: 8 }); // pages end mid-chain
    expect(report.design).toBe('missing');
    expect(report.strays).toEqual([]);
    expect(report.workstations.find((w) => w.workstation === a.id)).toEqual({ workstation: a.id, events: 33, checkpoint: 35, problems: expected });
    expect(report.workstations.find((w) => w.workstation === b.id)).toEqual({ workstation: b.id, events: 12, checkpoint: 12, problems: [] });

    const r = await verifyCli();
    expect(r.code).toBe(1);
    const lines = [
      [a.id, `BROKEN ${a.id}: ${expected.join('; ')}`],
      [b.id, `OK ${b.id}: 12 events, chain intact`],
    ]
      .sort(([x], [y]) => x!.localeCompare(y!))
      .map(([, line]) => line);
    expect(r.stdout).toBe(`${lines.join('\n')}\n`);
    expect(r.stdout).not.toMatch(/Patient/); // problems never quote content
    expect(r.stderr).toMatch(/warning: the audit database has no _design\/flint-audit/);
  });
});
