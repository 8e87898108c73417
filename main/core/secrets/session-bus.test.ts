/**
 * The checks on the bus file that scripts/start.sh writes: only a file of this user's, that
 * nobody else can write, naming a bus daemon that still runs, is used; stale ones go away.
 * Real files and real processes (this one, and a child that has exited); no mocks.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { busFilePaths, checkBusFile, keychainHint, lookupSessionBus, parseBusRecord } from './session-bus';
import { KeychainUnavailableError } from './secret-store';

const root = mkdtempSync(join(tmpdir(), 'flint-session-bus-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const uid = process.getuid!();
const ADDRESS = 'unix:path=/tmp/dbus-TEST,guid=0123456789abcdef';

/** Start time (clock ticks since boot) of a live process, as start.sh records it. */
function startOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** A pid that no process has any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

let n = 0;
let dir: string;
let file: string;
beforeEach(() => {
  dir = join(root, `d${n++}`, 'flint');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  file = join(dir, 'keyring-bus');
});

function write(content: { address?: string; pid?: number | string; start?: string } = {}, mode = 0o600): void {
  const { address = ADDRESS, pid = process.pid, start = startOf(process.pid) } = content;
  writeFileSync(file, `# Flint: a comment\naddress=${address}\npid=${pid}\nstart=${start}\n`, { mode });
  chmodSync(file, mode);
}

describe.runIf(process.platform === 'linux')('checkBusFile', () => {
  it('accepts a private file of this user whose daemon runs', () => {
    write();
    expect(checkBusFile(file)).toEqual({ ok: true, record: { address: ADDRESS, pid: process.pid, start: startOf(process.pid) } });
  });

  it('says absent when there is no file', () => {
    expect(checkBusFile(join(dir, 'nothing'))).toMatchObject({ ok: false, kind: 'absent' });
  });

  it("refuses a file of another user's", () => {
    write();
    expect(checkBusFile(file, { uid: uid + 1 })).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/belongs to uid/) });
    if (uid === 0) {
      // Really owned by someone else (only root can give a file away).
      chownSync(file, 65534, 65534);
      expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused', reason: 'it belongs to uid 65534, not 0' });
    }
  });

  it('refuses a file that group or others can write', () => {
    write({}, 0o620);
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused', reason: 'it is writable by group or others' });
    write({}, 0o602);
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused', reason: 'it is writable by group or others' });
  });

  it('refuses a file in a directory that group or others can write', () => {
    write();
    chmodSync(dir, 0o777);
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused', reason: 'its directory is writable by group or others' });
  });

  it('refuses a symbolic link, and a FIFO without blocking', () => {
    const target = join(dir, 'target');
    writeFileSync(target, `address=${ADDRESS}\npid=${process.pid}\nstart=${startOf(process.pid)}\n`, { mode: 0o600 });
    symlinkSync(target, file);
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused', reason: 'it is a symbolic link' });
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    expect(checkBusFile(fifo)).toMatchObject({ ok: false, kind: 'refused', reason: 'it is not a regular file' });
  });

  it('refuses what is not an address, pid and start time', () => {
    for (const text of ['', 'address=unix:path=/x\npid=1\n', 'address=tcp:host=10.0.0.1,port=1\npid=1\nstart=1\n', 'garbage']) {
      writeFileSync(file, text, { mode: 0o600 });
      expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'refused' });
    }
  });

  it('calls a file stale when its daemon is gone, or its pid now belongs to another process', () => {
    const pid = deadPid();
    write({ pid });
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'stale', reason: `its bus daemon (pid ${pid}) is gone` });
    write({ start: String(Number(startOf(process.pid)) + 1) });
    expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'stale', reason: `pid ${process.pid} is no longer its bus daemon` });
  });

  it('calls a file stale when its pid runs as another user', () => {
    // pid 1 runs as root: for any other user it cannot be their bus daemon. As root, another
    // uid is checked instead, with a file that uid "owns" as far as the check knows.
    if (uid !== 0) {
      write({ pid: 1, start: startOf(1) });
      expect(checkBusFile(file)).toMatchObject({ ok: false, kind: 'stale', reason: 'pid 1 is no longer its bus daemon' });
    } else {
      write();
      chownSync(file, 65534, 65534);
      chownSync(dir, 65534, 65534);
      expect(checkBusFile(file, { uid: 65534 })).toMatchObject({ ok: false, kind: 'stale', reason: `pid ${process.pid} is no longer its bus daemon` });
    }
  });
});

describe.runIf(process.platform === 'linux')('lookupSessionBus', () => {
  it('leaves a session bus that is already set alone', () => {
    write();
    const env: NodeJS.ProcessEnv = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/desktop' };
    expect(lookupSessionBus(env, { paths: [file] })).toEqual({ source: 'env' });
    expect(env['DBUS_SESSION_BUS_ADDRESS']).toBe('unix:path=/desktop');
  });

  it('is no matter off Linux', () => {
    write();
    const env: NodeJS.ProcessEnv = {};
    expect(lookupSessionBus(env, { paths: [file], platform: 'darwin' })).toEqual({ source: 'platform' });
    expect(env).toEqual({});
  });

  it('sets the address from the first usable file', () => {
    const bad = join(root, 'bad-bus');
    writeFileSync(bad, `address=unix:path=/elsewhere\npid=${process.pid}\nstart=${startOf(process.pid)}\n`, { mode: 0o666 });
    chmodSync(bad, 0o666);
    write();
    const env: NodeJS.ProcessEnv = {};
    expect(lookupSessionBus(env, { paths: [join(root, 'absent'), bad, file] })).toEqual({ source: 'file', path: file });
    expect(env['DBUS_SESSION_BUS_ADDRESS']).toBe(ADDRESS);
  });

  it('removes a stale file, keeps a refused one, and says why both were ignored', () => {
    write({ pid: deadPid() });
    const foreign = join(root, 'foreign-bus');
    writeFileSync(foreign, `address=${ADDRESS}\npid=${process.pid}\nstart=${startOf(process.pid)}\n`, { mode: 0o622 });
    chmodSync(foreign, 0o622);
    const env: NodeJS.ProcessEnv = {};
    const found = lookupSessionBus(env, { paths: [foreign, file] });
    expect(found).toEqual({
      source: 'none',
      ignored: [`${foreign}: it is writable by group or others`, expect.stringMatching(/^.*keyring-bus: its bus daemon \(pid \d+\) is gone$/)],
    });
    expect(env).toEqual({});
    expect(existsSync(file)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    expect(keychainHint(found)).toMatch(/start Flint with `make start` first .*or run inside your desktop session \(ignored .*foreign-bus: it is writable/);
  });
});

describe('where the bus file is looked for', () => {
  it('the runtime dir first, then the cache dir', () => {
    expect(busFilePaths({ XDG_RUNTIME_DIR: '/run/user/1000' }, '/home/ann')).toEqual([
      '/run/user/1000/flint/keyring-bus',
      '/home/ann/.cache/flint/keyring-bus',
    ]);
    expect(busFilePaths({ XDG_CACHE_HOME: '/var/cache/ann' }, '/home/ann')).toEqual(['/var/cache/ann/flint/keyring-bus']);
    // Relative values are not XDG paths (the spec says to ignore them).
    expect(busFilePaths({ XDG_RUNTIME_DIR: 'run', XDG_CACHE_HOME: '' }, '/home/ann')).toEqual(['/home/ann/.cache/flint/keyring-bus']);
  });

  it('parses what start.sh writes', () => {
    expect(parseBusRecord(`# comment\naddress=${ADDRESS}\npid=42\nstart=123\n`)).toEqual({ address: ADDRESS, pid: 42, start: '123' });
    expect(parseBusRecord(`address=${ADDRESS} x\npid=42\nstart=123\n`)).toBeNull();
    expect(parseBusRecord(`address=${ADDRESS}\npid=0\nstart=123\n`)).toBeNull();
  });

  it('tells what to do when no session was found', () => {
    const error = new KeychainUnavailableError('Cannot autolaunch D-Bus without X11 $DISPLAY', { hint: keychainHint({ source: 'none', ignored: [] }) });
    expect(error.message).toBe(
      'the OS keychain is not available (Cannot autolaunch D-Bus without X11 $DISPLAY); there is no D-Bus session with a keyring here: ' +
        'start Flint with `make start` first (its keyring then serves the other terminals of your user too), or run inside your desktop session',
    );
  });
});
