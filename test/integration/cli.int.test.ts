/**
 * The `flint` command as an integrator runs it: help and usage errors, `serve` on a
 * chosen or free port, two servers side by side, the data dir lock, clean shutdown on
 * SIGTERM and SIGINT with the data surviving a restart, FLINT_DATA_DIR, a data dir whose
 * keychain entry is gone (a clear error, never an empty store), and a listener bound to
 * 127.0.0.1 only.
 */
import type { Patient } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { LISTENING, runFlint, spawnFlint, type FlintProcess } from '../support/flint-process';
import { deleteMasterKey, forgetDataDir, getMasterKey, setMasterKey, workstationIdOf } from '../support/keychain';
import { adminToken, tempDataDir } from '../support/workstation';

const dirs: string[] = [];
const procs: FlintProcess[] = [];

function newDir(): string {
  const d = tempDataDir('flint-cli-');
  dirs.push(d);
  return d;
}

/** `flint serve` on a data dir (and any extra args/env); resolves once it listens. */
async function serve(dataDir: string | undefined, opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const args = ['serve', ...(dataDir ? ['--data-dir', dataDir] : []), '--port', '0', ...(opts.args ?? [])];
  const p = spawnFlint(args, { env: { ...process.env, ...opts.env } });
  procs.push(p);
  const m = await p.waitFor(LISTENING, 30_000);
  const baseUrl = m[1]!;
  const env = { ...process.env, ...opts.env };
  const token = await adminToken(dataDir ?? env.FLINT_DATA_DIR ?? '', env);
  return { p, baseUrl, client: new FhirClient(baseUrl, token), port: Number(new URL(baseUrl).port) };
}

afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const d of dirs) await forgetDataDir(d);
});

/** Environment without FLINT_DATA_DIR / FLINT_PORT, so the tests control both. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('FLINT_DATA_DIR' in extra)) delete env.FLINT_DATA_DIR;
  if (!('FLINT_PORT' in extra)) delete env.FLINT_PORT;
  return env;
}

describe('help and usage', () => {
  it('flint --help prints usage and exits 0', async () => {
    const r = await runFlint(['--help'], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Usage: flint <command>/);
    expect(r.stdout).toMatch(/\bserve\b/);
  });

  it('flint serve --help prints the serve options and exits 0 without starting', async () => {
    const r = await runFlint(['serve', '--help'], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Usage: flint serve/);
    for (const opt of ['--data-dir', '--port', '--max-body-bytes']) expect(r.stdout).toContain(opt);
    expect(r.stdout).not.toMatch(LISTENING);
  });

  it('an unknown command exits non-zero and says so', async () => {
    const r = await runFlint(['frobnicate'], { env: cleanEnv() });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/unknown command.*frobnicate/);
  });

  it('an unknown option and a bad port exit non-zero with usage, without starting', async () => {
    const dir = newDir();
    for (const args of [['serve', '--data-dir', dir, '--bogus'], ['serve', '--data-dir', dir, '--port', 'eighty'], ['serve', '--data-dir', dir, '--port', '70000']]) {
      const r = await runFlint(args, { env: cleanEnv() });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/Usage: flint serve/);
      expect(r.stdout).not.toMatch(LISTENING);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('serve', () => {
  it('--port 0 prints the chosen port, which serves FHIR', async () => {
    const dir = newDir();
    const { p, baseUrl, client, port } = await serve(dir, { env: cleanEnv() });
    expect(baseUrl).toBe(`http://127.0.0.1:${port}/fhir`);
    expect(port).toBeGreaterThan(0);
    const meta = await client.get('metadata');
    expect(meta.status).toBe(200);
    expect(meta.body.resourceType).toBe('CapabilityStatement');
    expect(p.stdout()).toContain(dir);
    expect(await p.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('two servers with different data dirs run side by side, each with its own data', async () => {
    const [a, b] = await Promise.all([serve(newDir(), { env: cleanEnv() }), serve(newDir(), { env: cleanEnv() })]);
    expect(a.port).not.toBe(b.port);
    expect((await a.client.put('Patient/only-a', { resourceType: 'Patient', id: 'only-a' })).status).toBe(201);
    expect((await b.client.put('Patient/only-b', { resourceType: 'Patient', id: 'only-b' })).status).toBe(201);
    expect((await a.client.get('Patient/only-a')).status).toBe(200);
    expect((await a.client.get('Patient/only-b')).status).toBe(404);
    expect((await b.client.get('Patient/only-b')).status).toBe(200);
    expect((await b.client.get('Patient/only-a')).status).toBe(404);
    const [ea, eb] = await Promise.all([a.p.stop('SIGTERM'), b.p.stop('SIGTERM')]);
    expect(ea.code).toBe(0);
    expect(eb.code).toBe(0);
  });

  it('six workstations starting at once on fresh data dirs all start (their keychain calls do not collide)', async () => {
    // Each first start asks the keychain for a key it does not have yet; concurrent
    // probes of one shared keychain item used to make the Secret Service fail some.
    const started = await Promise.all(Array.from({ length: 6 }, () => serve(newDir(), { env: cleanEnv() })));
    expect(new Set(started.map((s) => s.port)).size).toBe(6);
    const codes = await Promise.all(started.map((s) => s.p.stop('SIGTERM')));
    expect(codes.map((c) => `${c.code}/${c.signal}`), started.map((s) => s.p.output()).join('\n---\n')).toEqual(Array(6).fill('0/null'));
  });

  it('flint reindex rebuilds the search index of a stopped data dir, and refuses while a server has it open', async () => {
    const dir = newDir();
    const first = await serve(dir, { env: cleanEnv() });
    expect((await first.client.put('Patient/rx', { resourceType: 'Patient', id: 'rx', name: [{ family: 'Reindexed' }] })).status).toBe(201);
    const busy = await runFlint(['reindex', '--data-dir', dir], { env: cleanEnv() });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use/);
    expect((await first.p.stop('SIGTERM')).code).toBe(0);
    // Without its index the data dir still holds everything; reindex builds it anew.
    for (const f of readdirSync(dir).filter((f) => f.startsWith('index.db'))) rmSync(join(dir, f));
    const done = await runFlint(['reindex', '--data-dir', dir], { env: cleanEnv() });
    expect(existsSync(join(dir, 'index.db'))).toBe(true);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/reindex: 100% \(\d+\/\d+ changes\)/);
    expect(done.stdout).toMatch(/Reindexed \d+ changes/);
    const again = await serve(dir, { env: cleanEnv() });
    const found = await again.client.get<{ total: number }>('Patient?family=reindexed');
    expect(found.body.total).toBe(1);
    expect((await again.p.stop('SIGTERM')).code).toBe(0);
  });

  it('a second server on the same data dir fails with a clear "in use" message; the first keeps serving', async () => {
    const dir = newDir();
    const first = await serve(dir, { env: cleanEnv() });
    await first.client.put('Patient/locked-1', { resourceType: 'Patient', id: 'locked-1' });
    const second = await runFlint(['serve', '--data-dir', dir, '--port', '0'], { env: cleanEnv(), timeoutMs: 30_000 });
    expect(second.code).not.toBe(0);
    expect(second.signal).toBeNull();
    expect(second.stderr).toMatch(/in use/i);
    expect(second.stderr).toContain(dir);
    expect(second.stdout).not.toMatch(LISTENING);
    // The failed start did not take the lock away or touch the data.
    expect((await first.client.get('Patient/locked-1')).status).toBe(200);
    expect((await first.client.put('Patient/locked-2', { resourceType: 'Patient', id: 'locked-2' })).status).toBe(201);
    expect((await first.p.stop('SIGTERM')).code).toBe(0);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} shuts down cleanly (exit 0) and the data survives a restart`, async () => {
      const dir = newDir();
      const first = await serve(dir, { env: cleanEnv() });
      const put = await first.client.put<Patient>(`Patient/${signal}`, { resourceType: 'Patient', id: signal, name: [{ family: 'Survivor' }] });
      expect(put.status).toBe(201);
      const exit = await first.p.stop(signal);
      expect(exit, first.p.output()).toEqual({ code: 0, signal: null });
      expect(first.p.output()).not.toMatch(/\[fault\]|Error/);
      // A clean shutdown gives the data dir lock back.
      expect(existsSync(join(dir, 'flint.lock'))).toBe(false);

      const again = await serve(dir, { env: cleanEnv() });
      const read = await again.client.get<Patient>(`Patient/${signal}`);
      expect(read.status).toBe(200);
      expect(read.body.name?.[0]?.family).toBe('Survivor');
      expect(read.body.meta?.versionId).toBe(put.body.meta?.versionId);
      expect((await again.p.stop('SIGTERM')).code).toBe(0);
    });
  }

  it('FLINT_DATA_DIR is honoured, and --data-dir wins over it', async () => {
    const envDir = newDir();
    const flagDir = newDir();
    const viaEnv = await serve(undefined, { env: cleanEnv({ FLINT_DATA_DIR: envDir }) });
    expect(viaEnv.p.stdout()).toContain(envDir);
    await viaEnv.client.put('Patient/from-env', { resourceType: 'Patient', id: 'from-env' });
    expect((await viaEnv.p.stop('SIGTERM')).code).toBe(0);
    expect(existsSync(join(envDir, 'flint.json'))).toBe(true);

    // The data landed in FLINT_DATA_DIR: a server started on it by flag sees it.
    const byFlag = await serve(envDir, { env: cleanEnv() });
    expect((await byFlag.client.get('Patient/from-env')).status).toBe(200);
    expect((await byFlag.p.stop('SIGTERM')).code).toBe(0);

    const both = await serve(flagDir, { env: cleanEnv({ FLINT_DATA_DIR: envDir }) });
    expect(both.p.stdout()).toContain(flagDir);
    expect((await both.client.get('Patient/from-env')).status).toBe(404);
    expect((await both.p.stop('SIGTERM')).code).toBe(0);
  });

  it('a data dir whose keychain key was removed fails at startup with a clear error, never an empty store', async () => {
    const dir = newDir();
    const first = await serve(dir, { env: cleanEnv() });
    await first.client.put('Patient/keyed', { resourceType: 'Patient', id: 'keyed', name: [{ family: 'Keyed' }] });
    expect((await first.p.stop('SIGTERM')).code).toBe(0);

    const workstationId = workstationIdOf(dir);
    const key = await getMasterKey(dir);
    expect(key, 'the master key is in the keychain under flint / <workstationId>/master-key').toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(await deleteMasterKey(dir)).toBe(true);
    const fingerprint = () =>
      readdirSync(dir)
        .sort()
        .map((f) => `${f}:${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}`);
    const before = fingerprint();

    const start = spawnFlint(['serve', '--data-dir', dir, '--port', '0'], { env: cleanEnv() });
    procs.push(start);
    const exit = await Promise.race([start.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000))]);
    expect(exit, `it must refuse to start; output:\n${start.output()}`).not.toBe('running');
    expect((exit as { code: number | null }).code).not.toBe(0);
    expect(start.stdout()).not.toMatch(LISTENING);
    expect(start.stderr()).toMatch(/keychain/i);
    expect(start.stderr()).toMatch(/master key/i);
    expect(start.stderr()).toContain(workstationId);
    // Nothing was replaced: no new key, the same files, no lock left behind.
    expect(await getMasterKey(dir)).toBeNull();
    expect(fingerprint()).toEqual(before);

    // With the key restored, the same data is back.
    await setMasterKey(dir, key!);
    const again = await serve(dir, { env: cleanEnv() });
    const read = await again.client.get<Patient>('Patient/keyed');
    expect(read.status).toBe(200);
    expect(read.body.name?.[0]?.family).toBe('Keyed');
    expect((await again.p.stop('SIGTERM')).code).toBe(0);
  });

  it('the listener is bound to 127.0.0.1 only', async () => {
    const { p, port, client } = await serve(newDir(), { env: cleanEnv() });
    expect((await client.get('metadata')).status).toBe(200);

    // The kernel's view: every listening socket on this port is on 127.0.0.1.
    const listeners = listeningSockets(port);
    expect(listeners, 'listening sockets on the port').toEqual(['127.0.0.1']);

    // And from the outside: other addresses of this machine refuse the connection.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.address.startsWith('127.') && a.address !== '::1' && !a.address.startsWith('fe80'))
      .map((a) => a!.address);
    for (const address of ['::1', ...others]) {
      expect(await canConnect(address, port), `connect to [${address}]:${port}`).toBe(false);
    }
    expect(await canConnect('127.0.0.1', port)).toBe(true);
    expect((await p.stop('SIGTERM')).code).toBe(0);
  });
});

/** Local addresses of the LISTEN sockets on `port`, from /proc/net/tcp and tcp6. */
function listeningSockets(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
      const [addrHex, portHex] = cols[1]!.split(':');
      if (parseInt(portHex!, 16) !== port) continue;
      out.push(addrHex!.length === 8 ? ipv4FromProc(addrHex!) : `ipv6:${addrHex}`);
    }
  }
  return out;
}

/** /proc/net/tcp holds IPv4 addresses as little-endian hex. */
const ipv4FromProc = (hex: string): string =>
  [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3_000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}
