/**
 * README's headless path, as a new user on a Linux machine without a desktop session runs
 * it: `make start` (scripts/start.sh: a private D-Bus session with gnome-keyring, then
 * `flint serve`) in one terminal; `npx flint user add admin --role admin` and
 * `npx flint token create --scope "user/*.cruds"` in another, which has no
 * DBUS_SESSION_BUS_ADDRESS and finds the keyring through the bus file start.sh records
 * (main/core/secrets/session-bus.ts). Then the token against the server, the session's
 * end (the bus file goes, a CLI command fails with a clear message), a second start on the
 * same keyring, and a crash (the bus file stays, stale, and is ignored and removed).
 *
 * Every process runs in a scratch HOME / XDG_RUNTIME_DIR / XDG_DATA_HOME, with an
 * environment built here: none of the keyring session that `npm test` itself runs in
 * (scripts/with-keyring.sh sets DBUS_SESSION_BUS_ADDRESS and FLINT_KEYRING_READY) leaks in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runFlint } from '../support/flint-process';

const KEYRING_PASSWORD = 'login keyring of a new user';
const ADMIN_PASSWORD = 'correct horse battery staple';
const NO_SESSION = /the OS keychain is not available .*start Flint with `make start` first.*or run inside your desktop session/s;

let scratch: string;
let env: NodeJS.ProcessEnv;
let busFile: string;
/** Process groups started here (start.sh runs in its own); all are killed in afterAll. */
const groups = new Set<number>();

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'flint-headless-'));
  const home = join(scratch, 'home');
  const runtime = join(scratch, 'run');
  mkdirSync(home, { recursive: true });
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  // What a login shell on a headless machine has: no DBUS_SESSION_BUS_ADDRESS, no DISPLAY.
  env = {
    PATH: process.env['PATH'],
    LANG: 'C.UTF-8',
    HOME: home,
    USER: process.env['USER'] ?? 'flint',
    XDG_RUNTIME_DIR: runtime,
    XDG_DATA_HOME: join(scratch, 'data'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    // npm's cache as with-keyring.sh keeps it (no network needed); no update check.
    ...(process.env['npm_config_cache'] ? { npm_config_cache: process.env['npm_config_cache'] } : {}),
    npm_config_update_notifier: 'false',
  };
  busFile = join(runtime, 'flint', 'keyring-bus');
});

afterAll(async () => {
  for (const pgid of groups) {
    try {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  for (const pgid of groups) await until(() => !groupAlive(pgid), 10_000, () => `group ${pgid} to end`).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Whether any process of the group still runs (zombies, which only wait to be reaped, do not count). */
function groupAlive(pgid: number): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Started {
  proc: ChildProcess;
  pgid: number;
  baseUrl: string;
  output: () => string;
  /** Resolves once every process holding start.sh's stdout and stderr has ended. */
  closed: Promise<void>;
}

/** `scripts/start.sh --port 0` in its own process group; resolves once it serves /fhir/metadata. */
async function startScript(): Promise<Started> {
  const proc = spawn('bash', ['scripts/start.sh', '--port', '0'], {
    cwd: REPO,
    // `npm start` would rebuild dist/ first (prestart): skipped, so that test files running
    // alongside never see dist/cli.js half-written; `npm test` built it just before.
    env: { ...env, FLINT_KEYRING_PASSWORD: KEYRING_PASSWORD, npm_config_ignore_scripts: 'true' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = proc.pid!;
  groups.add(pgid);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const listening = /listening at (http:\/\/127\.0\.0\.1:\d+\/fhir)/;
  await until(
    () => {
      if (exited) throw new Error(`start.sh exited before serving; output:\n${out}`);
      return listening.test(out);
    },
    90_000,
    () => `start.sh to serve; output so far:\n${out}`,
  );
  const baseUrl = listening.exec(out)![1]!;
  await until(async () => (await fetch(`${baseUrl}/metadata`)).status === 200, 30_000, () => `GET ${baseUrl}/metadata`);
  return { proc, pgid, baseUrl, output: () => out, closed };
}

/** A command as typed in another terminal (a shell line, as README shows it). */
async function shell(line: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn('sh', ['-c', line], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(proc.pid!);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const flint = (args: string[], input?: string) => runFlint(args, { env, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });

async function stop(s: Started, signal: NodeJS.Signals): Promise<void> {
  process.kill(-s.pgid, signal);
  await until(() => !groupAlive(s.pgid), 30_000, () => `start.sh's process group to end after ${signal}; output:\n${s.output()}`);
  await s.closed;
}

describe.runIf(process.platform === 'linux')('make start on a headless Linux machine', () => {
  it('serves the other terminals the keyring, as README says, and stops cleanly', async () => {
    const server = await startScript();

    // The session is recorded privately, with no secret in it.
    expect(existsSync(busFile), server.output()).toBe(true);
    expect(statSync(busFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(busFile)).mode & 0o777).toBe(0o700);
    const recorded = readFileSync(busFile, 'utf8');
    expect(recorded).toMatch(/^address=unix:/m);
    expect(recorded).not.toContain(KEYRING_PASSWORD);

    // Another terminal: no DBUS_SESSION_BUS_ADDRESS in `env`.
    expect(env['DBUS_SESSION_BUS_ADDRESS']).toBeUndefined();
    const added = await flint(['user', 'add', 'admin', '--role', 'admin'], `${ADMIN_PASSWORD}\n`);
    expect(added.code, added.stderr).toBe(0);
    const created = await flint(['token', 'create', '--scope', 'user/*.cruds']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const patients = await fetch(`${server.baseUrl}/Patient`, { headers: { authorization: `Bearer ${token}` } });
    expect(patients.status).toBe(200);
    expect(((await patients.json()) as { resourceType: string }).resourceType).toBe('Bundle');

    // README's form, literally: `npx flint ...` from the repository.
    const viaNpx = await shell(`npx flint token create --scope 'user/Patient.rs'`);
    expect(viaNpx.code, viaNpx.stderr).toBe(0);
    const read = await fetch(`${server.baseUrl}/Patient`, { headers: { authorization: `Bearer ${viaNpx.stdout.trim()}` } });
    expect(read.status).toBe(200);

    // Ctrl-C or a service manager: SIGTERM to the group. The bus file goes with the session.
    await stop(server, 'SIGTERM');
    expect(server.output()).toMatch(/Flint: shutting down/);
    expect(existsSync(busFile)).toBe(false);
    const started = Date.now();
    const after = await flint(['token', 'create', '--scope', 'user/*.rs']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(NO_SESSION);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 240_000);

  it('starts again on the same keyring; after a crash the stale record is ignored and removed', async () => {
    const server = await startScript();
    // The keyring persisted: the data dir's key and the admin from the first run are there.
    const created = await flint(['token', 'create', '--scope', 'user/*.rs', '--user', 'admin']);
    expect(created.code, created.stderr).toBe(0);
    const res = await fetch(`${server.baseUrl}/Patient`, { headers: { authorization: `Bearer ${created.stdout.trim()}` } });
    expect(res.status).toBe(200);

    // A crash: nothing gets to clean up, the record stays behind naming a dead bus daemon.
    await stop(server, 'SIGKILL');
    expect(existsSync(busFile)).toBe(true);
    const after = await flint(['user', 'list']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(NO_SESSION);
    expect(after.stderr).toMatch(/ignored .*keyring-bus: its bus daemon \(pid \d+\) is gone/);
    expect(existsSync(busFile)).toBe(false);
  }, 240_000);
});
