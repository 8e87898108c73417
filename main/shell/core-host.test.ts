/**
 * startCoreHost with Node's child_process.fork in place of Electron's utilityProcess.fork:
 * the real core entry (dist/desktop-core.js: run `node scripts/build.mjs` first; npm test
 * does), real data dirs in temp dirs, the real keychain (scripts/with-keyring.sh).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { filter } from 'rxjs/operators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlint } from '../../test/support/flint-process';
import { forgetDataDir, workstationIdOf } from '../../test/support/keychain';
import { tempDataDir } from '../../test/support/workstation';
import type { SyncStatus } from '../../shared/api/sync';
import { builtCoreEntry, startCoreHost, type CoreHost, type ForkCore } from './core-host';

const dirs: string[] = [];
const hosts: CoreHost[] = [];
const children: ChildProcess[] = [];
const newDir = () => {
  const d = tempDataDir('flint-core-host-');
  dirs.push(d);
  return d;
};

/** child_process.fork with the output kept (for failure messages) and the child remembered. */
function forkKeeping(out: { text: string }): ForkCore {
  return (modulePath, args, options) => {
    // execArgv: not vitest's own flags; stdio piped so the test's output stays readable.
    expect(options.serviceName).toBe('Flint core');
    const child = fork(modulePath, args, { stdio: 'pipe', execArgv: [] });
    child.stdout?.on('data', (d: Buffer) => (out.text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out.text += d.toString()));
    children.push(child);
    return child;
  };
}

async function start(dataDir: string): Promise<{ host: CoreHost; child: ChildProcess; out: { text: string } }> {
  const out = { text: '' };
  const host = await startCoreHost(forkKeeping(out), { dataDir }).catch((e: Error) => {
    throw new Error(`${e.message}\ncore output:\n${out.text}`);
  });
  hosts.push(host);
  return { host, child: children[children.length - 1]!, out };
}

/** A loopback port nothing listens on: a sync remote that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const statusWhere = (host: CoreHost, want: (s: SyncStatus) => boolean) => firstValueFrom(host.syncStatus$.pipe(filter(want)));

beforeAll(() => {
  if (!builtCoreEntry()) throw new Error('dist/desktop-core.js is missing: run `node scripts/build.mjs` first');
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await forgetDataDir(d);
});

describe('startCoreHost', () => {
  it('starts the core in a child process: ready with a base URL that serves FHIR, the first-run setup URL, and the sync status', async () => {
    const dataDir = newDir();
    const { host, child } = await start(dataDir);
    expect(child.pid).not.toBe(process.pid);
    expect(host.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metadata = await fetch(`${host.baseUrl}/fhir/metadata`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
    // No user yet: the one-time setup URL of this origin.
    expect(host.setupUrl).toMatch(new RegExp(`^${host.baseUrl}/setup#token=[\\w-]{20,}$`));
    expect(host.workstationId).toBe(workstationIdOf(dataDir));
    const status = await firstValueFrom(host.syncStatus$);
    expect(status).toMatchObject({ configured: false, state: 'offline' });
    await expect(host.setSyncPaused(true)).rejects.toThrow(/not set up/);

    // close(): sync stopped, stores closed, the process gone with 0, the status stream complete.
    const all = lastValueFrom(host.syncStatus$.pipe(toArray()));
    await host.close();
    expect(child.exitCode).toBe(0);
    expect((await all).length).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'flint.lock'))).toBe(false);
    await expect(host.setSyncPaused(false)).rejects.toThrow(/stopped/);

    // The data dir opens again (its lock was released); still no user, so a new setup URL.
    const again = await start(dataDir);
    expect(again.host.workstationId).toBe(host.workstationId);
    expect(again.host.setupUrl).toBeDefined();
    expect(again.host.setupUrl).not.toBe(host.setupUrl);
    await again.host.close();
    expect(again.child.exitCode).toBe(0);
  });

  it('pauses and resumes sync: the same sync.json setting as `flint sync pause|resume`, applied at once', async () => {
    const dataDir = newDir();
    // Configured before the start, to a remote nobody answers: sync runs and fails to connect.
    const remote = `http://127.0.0.1:${await closedPort()}/clinic`;
    const configured = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', remote, '--username', 'ws', '--max-retry-delay', '2'], { input: 'ws-Pa55word\n' });
    expect(configured.code, configured.stderr).toBe(0);
    const { host } = await start(dataDir);
    const settings = () => JSON.parse(readFileSync(join(dataDir, 'sync.json'), 'utf8')) as { remote: string; paused?: boolean };
    expect(settings().paused).toBeUndefined();
    await statusWhere(host, (s) => s.configured && s.remote === remote && s.state !== 'paused');

    await host.setSyncPaused(true);
    expect(settings().paused).toBe(true);
    // Applied by the time the answer comes: the current status is already the paused one.
    expect(await firstValueFrom(host.syncStatus$)).toMatchObject({ configured: true, state: 'paused' });

    await host.setSyncPaused(false);
    expect(settings().paused).toBeUndefined();
    expect(settings().remote).toBe(remote);
    const resumed = await firstValueFrom(host.syncStatus$);
    expect(resumed.state).not.toBe('paused');
    expect(['connecting', 'offline', 'error']).toContain(resumed.state);
    await host.close();
  });

  it('settles unexpectedExit when the core dies without close()', async () => {
    const { host, child } = await start(newDir());
    let settled = false;
    void host.unexpectedExit.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    child.kill('SIGKILL');
    const exit = await host.unexpectedExit;
    expect(exit.code).toBeNull();
    expect(exit.message).toMatch(/stopped unexpectedly/);
    // The status stream completes with the process.
    await expect(lastValueFrom(host.syncStatus$.pipe(toArray()))).resolves.toBeInstanceOf(Array);
    await expect(host.setSyncPaused(true)).rejects.toThrow(/stopped/);
  });

  it('does not settle unexpectedExit on close()', async () => {
    const { host } = await start(newDir());
    let settled = false;
    void host.unexpectedExit.then(() => (settled = true));
    await host.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
  });

  it('rejects with the core\'s own message, free of PHI, when the core cannot start (a data dir that is a file)', async () => {
    const dataDir = join(newDir(), 'not-a-dir');
    const phi = 'Jane Example 1961-04-12';
    writeFileSync(dataDir, `${phi}\n`);
    const out = { text: '' };
    const failed = startCoreHost(forkKeeping(out), { dataDir });
    await expect(failed).rejects.toThrow(/^Flint could not start/);
    const message = await failed.catch((e: Error) => e.message);
    expect(message).toContain(dataDir);
    expect(message).not.toContain('Jane');
    const child = children[children.length - 1]!;
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    expect(child.exitCode).toBe(1);
  });

  it('kills a core that does not stop within the timeout, and says so', async () => {
    const out = { text: '' };
    const host = await startCoreHost(forkKeeping(out), { dataDir: newDir(), stopTimeoutMs: 200 });
    hosts.push(host);
    const child = children[children.length - 1]!;
    child.kill('SIGSTOP'); // frozen: it cannot answer the stop
    await expect(host.close()).rejects.toThrow('The Flint core did not stop within 0.2 s and was killed.');
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  });

  it('reports a missing core entry', async () => {
    await expect(startCoreHost(forkKeeping({ text: '' }), { modulePath: join(newDir(), 'missing.js') })).rejects.toThrow(/exited before it was ready/);
  });
});
