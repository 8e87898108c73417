/**
 * `flint sync configure|status|pause|resume|remove|setup-remote` and `/flint/sync`
 * (docs/sync.md, "Configuration and keys", "Status"), with real processes: the flint CLI,
 * real workstations (`flint serve`), one pouchdb-server, and a TLS reverse proxy with a
 * private CA made by the openssl CLI. What an administrator does, and what the front desk
 * sees when it goes wrong: a wrong password, a server that is not there, a certificate
 * that is not trusted.
 */
import keytar from 'keytar';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../main/core/sync/sync-status';
import { startCouchServer, type CouchServer } from '../support/couch-server';
import { runFlint, spawnFlint } from '../support/flint-process';
import { forgetDataDir, KEYCHAIN_SERVICE, workstationIdOf } from '../support/keychain';
import { configureSync, DB, flintApi, syncStatus, type SyncStatusBody } from '../support/sync-pair';
import { hasOpenssl, makeTestCa, startTlsProxy, type TestCa, type TlsProxy } from '../support/tls-proxy';
import { UNTIL_DEFAULT_MS } from '../support/until';
import { startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

// The words the front desk sees (main/core/sync/sync-status.ts, MESSAGES), matched loosely.
const SIGN_IN = /sign-in/;
const CANNOT_BE_REACHED = /cannot be reached/;
const CERTIFICATE = /certificate is not trusted/;

const WS_USER = 'ws-cli';
const WS_PASSWORD = 'ws-cli-Pa55-word';

let couch: CouchServer;
let remote: string;
/** Started together up front (a start takes seconds): one per group that needs its own. */
let wsFollow: RunningWorkstation;
let wsFailing: RunningWorkstation;
let wsTrusting: RunningWorkstation;
let wsPlain: RunningWorkstation;
const dirs: string[] = [];
const running: RunningWorkstation[] = [];

const newDir = (prefix: string) => {
  const d = tempDataDir(prefix);
  dirs.push(d);
  return d;
};
const start = async (dataDir = newDir('flint-sync-cli-')) => {
  const ws = await startWorkstation({ dataDir });
  running.push(ws);
  return ws;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every regular file under dir (recursively). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}
/** The files under dir whose bytes contain `secret` (as UTF-8, or base64 as in a Basic header). */
function filesHolding(dir: string, secret: string): string[] {
  const needles = [Buffer.from(secret, 'utf8'), Buffer.from(Buffer.from(secret, 'utf8').toString('base64'))];
  return filesUnder(dir).filter((f) => {
    const bytes = readFileSync(f);
    return needles.some((n) => bytes.includes(n));
  });
}

/** Fails at once (with its output) if the workstation process has exited. */
function expectAlive(ws: RunningWorkstation): void {
  if (ws.proc.exitCode !== null || ws.proc.signalCode !== null) {
    throw new Error(`the workstation exited (${ws.proc.exitCode ?? ws.proc.signalCode}); output:\n${ws.output()}`);
  }
}

/** Polls GET /flint/sync until `want` holds; stops early if the workstation dies. */
async function waitState(ws: RunningWorkstation, want: (s: SyncStatusBody) => boolean, what: string, timeoutMs = UNTIL_DEFAULT_MS): Promise<SyncStatusBody> {
  const deadline = Date.now() + timeoutMs;
  let last: SyncStatusBody | undefined;
  for (;;) {
    expectAlive(ws);
    try {
      last = await syncStatus(ws);
      if (want(last)) return last;
    } catch {
      // not answering this instant: the exit check above tells a crash apart
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
    await sleep(150);
  }
}

/** Polls until the document is on the server; stops early if the workstation dies. */
async function waitOnServer(ws: RunningWorkstation, id: string, timeoutMs = UNTIL_DEFAULT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    expectAlive(ws);
    if (await onServer(id)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for Patient/${id} on the server; status: ${JSON.stringify(await syncStatus(ws).catch(() => undefined))}`);
    await sleep(150);
  }
}

/** The head of Patient/id in the clinic database on the server (status 404 when absent). */
const onServer = async (id: string) => (await couch.request('GET', `/${DB}/${encodeURIComponent(`r:Patient/${id}`)}`)).status === 200;

const patient = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: `Sync${id.replace(/[^a-z]/gi, '')}` }] });

/** A loopback port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const syncPasswordOf = (dataDir: string) => keytar.getPassword(KEYCHAIN_SERVICE, `${workstationIdOf(dataDir)}/sync-password`);

beforeAll(async () => {
  const server = (async () => {
    couch = await startCouchServer({ inMemory: true });
    remote = couch.dbUrl(DB);
    const setup = await runFlint(['sync', 'setup-remote', '--remote', remote, '--username', couch.admin.username], { input: `${couch.admin.password}\n` });
    if (setup.code !== 0) throw new Error(`setup-remote failed: ${setup.stderr}${setup.stdout}`);
    await couch.createUser(WS_USER, WS_PASSWORD, ['flint-workstation']);
  })();
  [wsFollow, wsFailing, wsTrusting, wsPlain] = await Promise.all([start(), start(), start(), start()]);
  await server;
}, 90_000);

afterAll(async () => {
  await Promise.all(running.map((ws) => ws.stop().catch(() => undefined)));
  await couch?.close();
  for (const d of dirs) {
    if (existsSync(join(d, 'flint.json'))) await keytar.deletePassword(KEYCHAIN_SERVICE, `${workstationIdOf(d)}/sync-password`).catch(() => false);
    await forgetDataDir(d);
  }
});

describe('flint sync configure and status, no server running', () => {
  it('keeps the password out of the data dir and the output; sync.json holds remote and user name', async () => {
    const dataDir = newDir('flint-sync-cfg-');
    const secret = `Pw-${Math.random().toString(36).slice(2)}-ÄÖ€`;
    const r = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', `${remote}/`, '--username', WS_USER], { input: `${secret}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Sync configured/);
    expect(r.stdout + r.stderr).not.toContain(secret);

    const settings = JSON.parse(readFileSync(join(dataDir, 'sync.json'), 'utf8')) as Record<string, unknown>;
    expect(settings).toMatchObject({ remote, username: WS_USER });
    expect(JSON.stringify(settings)).not.toContain(secret);
    const files = filesUnder(dataDir);
    expect(files).toContain(join(dataDir, 'sync.json'));
    expect(filesHolding(dataDir, secret)).toEqual([]);
    // ...where it is: the OS keychain, under <workstationId>/sync-password.
    expect(await syncPasswordOf(dataDir)).toBe(secret);

    const status = await runFlint(['sync', 'status', '--data-dir', dataDir]);
    expect(status.code, status.stderr).toBe(0);
    const body = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ configured: true, server: 'not running', remote, username: WS_USER, auditRemote: `${remote}-audit` });
    expect(status.stdout).not.toContain(secret);
  });

  it('refuses a URL with credentials (exit 2, a clear message) and writes nothing', async () => {
    const dataDir = newDir('flint-sync-cfg-');
    const r = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', 'http://u:p@127.0.0.1:1/db', '--username', 'u'], { input: 'pw\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not in the URL/);
    expect(r.stderr).toMatch(/--username/);
    expect(r.stderr + r.stdout).not.toContain('u:p@');
    expect(existsSync(join(dataDir, 'sync.json'))).toBe(false);
  });

  it('needs --username (exit 2) and a password on stdin', async () => {
    const dataDir = newDir('flint-sync-cfg-');
    const noUser = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', remote], { input: 'pw\n' });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--username is required/);
    const emptyLine = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', remote, '--username', WS_USER], { input: '\n' });
    expect(emptyLine.code).toBe(2);
    expect(emptyLine.stderr).toMatch(/no password/);
    // Nothing at all on stdin: refused too (exit 1 today, see the report on exit codes).
    const noInput = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', remote, '--username', WS_USER], { input: '' });
    expect(noInput.code).not.toBe(0);
    expect(noInput.stderr).toMatch(/no password/);
    expect(existsSync(join(dataDir, 'sync.json'))).toBe(false);
  });

  it('reports an unconfigured data dir as configured: false', async () => {
    const dataDir = newDir('flint-sync-cfg-');
    const r = await runFlint(['sync', 'status', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ configured: false, server: 'not running' });
  });
});

describe('a running server follows the CLI', () => {
  let ws: RunningWorkstation;
  let nurseToken: string;

  beforeAll(async () => {
    ws = wsFollow;
    const add = await runFlint(['user', 'add', 'nina', '--role', 'writer', '--data-dir', ws.dataDir], { input: 'nina password 123\n' });
    expect(add.code, add.stderr).toBe(0);
    const tok = await runFlint(['token', 'create', '--scope', 'user/*.cruds', '--user', 'nina', '--data-dir', ws.dataDir]);
    expect(tok.code, tok.stderr).toBe(0);
    nurseToken = tok.stdout.trim();
  });

  it('picks up configure without a restart, and sends a write', async () => {
    expect(await syncStatus(ws)).toMatchObject({ configured: false });
    await configureSync(ws.dataDir, remote, WS_USER, WS_PASSWORD);
    const idle = await waitState(ws, (s) => s.configured && s.state === 'idle', 'idle after configure');
    expect(idle.message).toMatch(/Up to date/);
    expect((await ws.client().put('Patient/live-1', patient('live-1'))).status).toBe(201);
    await waitOnServer(ws, 'live-1');
    const cli = await runFlint(['sync', 'status', '--data-dir', ws.dataDir]);
    expect(JSON.parse(cli.stdout)).toMatchObject({ configured: true, server: 'running' });
  });

  it('pause holds writes back and resume sends them', async () => {
    const pause = await runFlint(['sync', 'pause', '--data-dir', ws.dataDir]);
    expect(pause.code, pause.stderr).toBe(0);
    const paused = await waitState(ws, (s) => s.state === 'paused', 'paused after flint sync pause');
    expect(paused.configured).toBe(true);
    expect((await ws.client().put('Patient/paused-1', patient('paused-1'))).status).toBe(201);
    await waitState(ws, (s) => s.pending > 0, 'pending > 0 while paused');
    // A live push takes well under a second here (live-1 above); give it three.
    await sleep(3_000);
    expect(await onServer('paused-1')).toBe(false);
    expect((await syncStatus(ws)).state).toBe('paused');

    const resume = await runFlint(['sync', 'resume', '--data-dir', ws.dataDir]);
    expect(resume.code, resume.stderr).toBe(0);
    await waitOnServer(ws, 'paused-1');
    await waitState(ws, (s) => s.state === 'idle' && s.pending === 0, 'idle with nothing pending after resume');
  });

  it('PUT /flint/sync pauses and resumes for an admin only, and refuses a bad body', async () => {
    const denied = await fetch(new URL('/flint/sync', ws.baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${nurseToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paused: true }),
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    // The nurse may read the status, and nothing changed.
    const asNurse = await fetch(new URL('/flint/sync', ws.baseUrl), { headers: { authorization: `Bearer ${nurseToken}` } });
    expect(asNurse.status).toBe(200);
    expect(((await asNurse.json()) as SyncStatusBody).state).not.toBe('paused');
    expect(JSON.parse(readFileSync(join(ws.dataDir, 'sync.json'), 'utf8')).paused).toBeUndefined();

    for (const bad of [{ paused: 'yes' }, {}, [true], 'paused']) {
      const r = await flintApi<{ resourceType: string }>(ws, 'PUT', 'sync', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
    }

    const on = await flintApi<SyncStatusBody>(ws, 'PUT', 'sync', { paused: true });
    expect(on.status).toBe(200);
    expect(on.body.state).toBe('paused');
    expect(JSON.parse(readFileSync(join(ws.dataDir, 'sync.json'), 'utf8')).paused).toBe(true);
    const off = await flintApi<SyncStatusBody>(ws, 'PUT', 'sync', { paused: false });
    expect(off.status).toBe(200);
    expect(off.body.state).not.toBe('paused');
    await waitState(ws, (s) => s.state === 'idle', 'idle after PUT paused:false');
  });

  it('never writes the password to the data dir or the server output while syncing', async () => {
    expect(filesHolding(ws.dataDir, WS_PASSWORD)).toEqual([]);
    expect(ws.output()).not.toContain(WS_PASSWORD);
  });

  it('remove deletes sync.json and the keychain entry, and the server stops syncing', async () => {
    expect(await syncPasswordOf(ws.dataDir)).toBe(WS_PASSWORD);
    const r = await runFlint(['sync', 'remove', '--data-dir', ws.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Sync removed/);
    expect(existsSync(join(ws.dataDir, 'sync.json'))).toBe(false);
    expect(await syncPasswordOf(ws.dataDir)).toBeNull();
    const s = await waitState(ws, (st) => !st.configured, 'configured: false after remove');
    expect(s.state).toBe('offline');
    expect((await ws.client().put('Patient/after-remove', patient('after-remove'))).status).toBe(201);
    await sleep(2_000);
    expect(await onServer('after-remove')).toBe(false);
    const put = await flintApi<{ resourceType: string }>(ws, 'PUT', 'sync', { paused: true });
    expect(put.status).toBe(409);
    expect(put.body.resourceType).toBe('OperationOutcome');
    const again = await runFlint(['sync', 'remove', '--data-dir', ws.dataDir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/not configured/);
  });
});

describe('when sync cannot work', () => {
  let ws: RunningWorkstation;
  beforeAll(() => {
    ws = wsFailing;
  });

  it('a wrong password shows a sign-in error, and the workstation keeps working', async () => {
    await configureSync(ws.dataDir, remote, WS_USER, 'not-the-password');
    const s = await waitState(ws, (st) => st.state === 'error', 'error after a wrong password');
    expect(s.configured).toBe(true);
    expect(s.message).toMatch(SIGN_IN);
    expectAlive(ws);
    expect((await ws.client().put('Patient/wrong-pw', patient('wrong-pw'))).status).toBe(201);
    expect(await onServer('wrong-pw')).toBe(false);
    // Still an error after the retries (2 s max backoff), and still alive.
    await sleep(2_500);
    expect((await syncStatus(ws)).message).toMatch(SIGN_IN);
    expectAlive(ws);
  });

  it('an unreachable server shows offline, and local writes go on, held back as pending', async () => {
    const port = await closedPort();
    await configureSync(ws.dataDir, `http://127.0.0.1:${port}/clinic`, WS_USER, WS_PASSWORD);
    const s = await waitState(ws, (st) => st.state === 'offline' && st.configured, 'offline with a closed port');
    expect(s.message).toMatch(CANNOT_BE_REACHED);
    const client = ws.client();
    for (let i = 0; i < 5; i++) expect((await client.put(`Patient/offline-${i}`, patient(`offline-${i}`))).status).toBe(201);
    expect((await client.get('Patient/offline-4')).status).toBe(200);
    await waitState(ws, (st) => st.pending > 0, 'pending > 0 while offline');
  });

  it('a --ca-file that cannot be read neither stops nor crashes the workstation', async () => {
    const missing = join(tempDataDir('flint-no-ca-'), 'no-such-ca.pem');
    dirs.push(dirname(missing));
    const port = await closedPort();
    const r = await runFlint(['sync', 'configure', '--data-dir', ws.dataDir, '--remote', `https://127.0.0.1:${port}/${DB}`, '--username', WS_USER, '--ca-file', missing, '--max-retry-delay', '2'], { input: `${WS_PASSWORD}\n` });
    if (r.code !== 0) {
      // Refusing it up front is fine too, with a message that names the file or option.
      expect(r.stderr).toMatch(/ca-file|CA|no-such-ca/);
    } else {
      await waitState(ws, (s) => s.configured && s.state === 'error', 'error with an unreadable CA file');
    }
    await sleep(1_500);
    expectAlive(ws);
    expect((await ws.client().put('Patient/ca-missing', patient('ca-missing'))).status).toBe(201);
  });
});

describe('TLS with a private CA (--ca-file)', () => {
  const openssl = hasOpenssl();
  let ca: TestCa | undefined;
  let proxy: TlsProxy | undefined;
  /** Only the workstation that does not trust the CA talks to this one. */
  let untrustedProxy: TlsProxy | undefined;

  beforeAll(async () => {
    if (!openssl) return;
    ca = makeTestCa();
    proxy = await startTlsProxy(couch.url, ca);
    untrustedProxy = await startTlsProxy(couch.url, ca);
  });
  afterAll(async () => {
    await proxy?.close();
    await untrustedProxy?.close();
    ca?.close();
  });

  it('needs the openssl CLI to make the certificates', () => {
    expect(openssl, 'the openssl command is not installed: the TLS tests cannot make a CA and do not run').toBe(true);
  });

  it.runIf(openssl)('syncs through https when the CA is given with --ca-file', async () => {
    const ws = wsTrusting;
    await configureSync(ws.dataDir, `${proxy!.url}/${DB}`, WS_USER, WS_PASSWORD, ['--ca-file', ca!.caFile]);
    expect((await ws.client().put('Patient/tls-1', patient('tls-1'))).status).toBe(201);
    await waitOnServer(ws, 'tls-1');
    const ok = await waitState(ws, (s) => s.state === 'idle' && s.pending === 0, 'idle over https');
    expect(ok.configured).toBe(true);
    expect(proxy!.forwarded()).toBeGreaterThan(0);
  });

  it.runIf(openssl)('without --ca-file: a certificate error, and nothing is sent', async () => {
    const ws = wsPlain;
    await configureSync(ws.dataDir, `${untrustedProxy!.url}/${DB}`, WS_USER, WS_PASSWORD);
    expect((await ws.client().put('Patient/tls-2', patient('tls-2'))).status).toBe(201);
    const bad = await waitState(ws, (s) => s.state === 'error' && CERTIFICATE.test(s.message), 'error with the certificate message');
    expect(bad.configured).toBe(true);
    expect(untrustedProxy!.tlsErrors()).toBeGreaterThan(0);
    expect(untrustedProxy!.forwarded()).toBe(0);
    expect(await onServer('tls-2')).toBe(false);
    expectAlive(ws);
  });

  it.runIf(openssl)('keeps saying it is the certificate while it retries (not "cannot be reached")', async () => {
    // Pull, push and audit push all fail on the certificate and retry on their own
    // (backoff up to 2 s here): every sample of the status must tell the same story.
    const seen = new Set<string>();
    const until = Date.now() + 4_500;
    while (Date.now() < until) {
      const s = await syncStatus(wsPlain);
      seen.add(`${s.state}: ${s.message}`);
      await sleep(100);
    }
    expect([...seen]).toEqual([`error: ${MESSAGES.certificate}`]);
    expect(untrustedProxy!.forwarded()).toBe(0);
  });

  it.runIf(openssl)('a relative --ca-file is taken relative to where configure ran; the held-back write then goes', async () => {
    // The administrator's shell is in the CA's directory; the server runs elsewhere (the repository).
    const ws = wsPlain;
    const args = ['sync', 'configure', '--data-dir', ws.dataDir, '--remote', `${untrustedProxy!.url}/${DB}`, '--username', WS_USER, '--ca-file', basename(ca!.caFile), '--max-retry-delay', '2'];
    const p = spawnFlint(args, { cwd: ca!.dir, input: `${WS_PASSWORD}\n` });
    expect((await p.exited).code, p.stderr()).toBe(0);
    await waitOnServer(ws, 'tls-2');
    expect(untrustedProxy!.forwarded()).toBeGreaterThan(0);
  });
});

describe('flint sync setup-remote', () => {
  it('is idempotent: a second run creates nothing', async () => {
    const r = await runFlint(['sync', 'setup-remote', '--remote', remote, '--username', couch.admin.username, '--member', WS_USER], { input: `${couch.admin.password}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/created/);
    expect(r.stdout).toMatch(/Remote ready/);
    expect(r.stdout + r.stderr).not.toContain(couch.admin.password);
    const security = await couch.request('GET', `/${DB}/_security`);
    expect(security.json.members).toEqual({ names: [WS_USER], roles: ['flint-workstation'] });
  });

  it('refuses a non-admin with exit 1 and a clear message', async () => {
    const r = await runFlint(['sync', 'setup-remote', '--remote', remote, '--username', WS_USER], { input: `${WS_PASSWORD}\n` });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^flint sync: the server answered 40[13]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // one line, no stack
    expect(r.stderr).not.toContain(WS_PASSWORD);
    // The server is still up and its databases unchanged.
    expect((await couch.request('GET', `/${DB}`)).status).toBe(200);
    expect((await couch.request('GET', `/${DB}-audit/_design/flint-audit`)).status).toBe(200);
    expect((await couch.request('GET', `/${DB}/_security`)).json.members).toEqual({ names: [WS_USER], roles: ['flint-workstation'] });
  });
});
