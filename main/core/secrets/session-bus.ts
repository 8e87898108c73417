/**
 * The D-Bus session that holds the keyring, for processes started outside it.
 *
 * On a headless Linux machine `make start` (scripts/start.sh) runs `flint serve` inside a
 * private D-Bus session with gnome-keyring unlocked. A second terminal has no
 * DBUS_SESSION_BUS_ADDRESS, so its `flint user add` would find no keychain. start.sh
 * therefore records the session in a file only its user can use (the "bus file"):
 *
 *   $XDG_RUNTIME_DIR/flint/keyring-bus, or ${XDG_CACHE_HOME:-~/.cache}/flint/keyring-bus
 *   (directory 0700, file 0600), lines `address=unix:...`, `pid=<bus daemon>`,
 *   `start=<its start time, field 22 of /proc/<pid>/stat>`; no secret.
 *
 * and removes it when the session ends. When DBUS_SESSION_BUS_ADDRESS is unset, Flint reads
 * that file before libsecret first connects (it reads the variable then) and sets the
 * variable from it, but only if the file and its directory belong to this user and nobody
 * else can write them, and the recorded bus daemon still runs as this user with the same
 * start time. The last check matters: once the daemon is gone, anyone on the machine could
 * listen on its old address and be handed Flint's master key. A file whose daemon is gone
 * is stale and is removed.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface BusRecord {
  address: string;
  pid: number;
  /** The bus daemon's start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
  start: string;
}

export type BusFileCheck =
  | { ok: true; record: BusRecord }
  /** absent: no such file; stale: ours, but its daemon is gone (safe to remove); refused: not to be trusted. */
  | { ok: false; kind: 'absent' | 'stale' | 'refused'; reason: string };

export type SessionBusLookup =
  /** Not Linux: the keychain is no D-Bus matter. */
  | { source: 'platform' }
  /** DBUS_SESSION_BUS_ADDRESS was set (a desktop session, or inside start.sh). */
  | { source: 'env' }
  /** Taken from a bus file recorded by start.sh. */
  | { source: 'file'; path: string }
  /** Nothing usable; `ignored` says which files were passed over, and why. */
  | { source: 'none'; ignored: string[] };

const MAX_FILE_BYTES = 4096;

/** Where start.sh records its session, in the order to look (start.sh writes the first it can). */
export function busFilePaths(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const paths: string[] = [];
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime && runtime.startsWith('/')) paths.push(join(runtime, 'flint', 'keyring-bus'));
  const cache = env['XDG_CACHE_HOME'] && env['XDG_CACHE_HOME'].startsWith('/') ? env['XDG_CACHE_HOME'] : join(home, '.cache');
  paths.push(join(cache, 'flint', 'keyring-bus'));
  return paths;
}

export interface BusFileCheckOptions {
  /** Whose the file and the bus daemon must be (default: this process's uid). */
  uid?: number;
  /** Where /proc is (tests). */
  procRoot?: string;
}

/** Reads and checks one bus file. Never throws for what it finds on disk. */
export function checkBusFile(path: string, { uid = currentUid(), procRoot = '/proc' }: BusFileCheckOptions = {}): BusFileCheck {
  let text: string;
  let fd: number;
  try {
    // O_NOFOLLOW: not through a symlink; O_NONBLOCK: a FIFO planted there cannot block us.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, kind: 'absent', reason: 'no such file' };
    if (code === 'ELOOP') return { ok: false, kind: 'refused', reason: 'it is a symbolic link' };
    return { ok: false, kind: 'refused', reason: `cannot be read (${code ?? String(e)})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, kind: 'refused', reason: 'it is not a regular file' };
    if (st.uid !== uid) return { ok: false, kind: 'refused', reason: `it belongs to uid ${st.uid}, not ${uid}` };
    if ((st.mode & 0o022) !== 0) return { ok: false, kind: 'refused', reason: 'it is writable by group or others' };
    if (st.size > MAX_FILE_BYTES) return { ok: false, kind: 'refused', reason: 'it is too large' };
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let dir;
  try {
    dir = statSync(dirname(path));
  } catch (e) {
    return { ok: false, kind: 'refused', reason: `its directory cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  if (dir.uid !== uid) return { ok: false, kind: 'refused', reason: `its directory belongs to uid ${dir.uid}, not ${uid}` };
  if ((dir.mode & 0o022) !== 0) return { ok: false, kind: 'refused', reason: 'its directory is writable by group or others' };

  const record = parseBusRecord(text);
  if (!record) return { ok: false, kind: 'refused', reason: 'it does not hold an address, pid and start time' };
  const alive = daemonAlive(record, uid, procRoot);
  if (alive !== true) return { ok: false, kind: 'stale', reason: alive };
  return { ok: true, record };
}

/** `address=`, `pid=`, `start=` lines; `#` comments. Null when anything is missing or odd. */
export function parseBusRecord(text: string): BusRecord | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return null;
    fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const address = fields.get('address');
  const pid = fields.get('pid');
  const start = fields.get('start');
  // Only local sockets: start.sh's dbus-daemon listens on one, and a tcp: bus could be anyone's.
  // eslint-disable-next-line no-control-regex
  if (!address || !address.startsWith('unix:') || /[\x00-\x20\x7f]/.test(address)) return null;
  if (!pid || !/^[1-9][0-9]{0,9}$/.test(pid) || !start || !/^[0-9]{1,20}$/.test(start)) return null;
  return { address, pid: Number(pid), start };
}

/** True when the recorded daemon still runs as `uid`, started when recorded; else why not. */
function daemonAlive({ pid, start }: BusRecord, uid: number, procRoot: string): true | string {
  let stat: string;
  let owner: number;
  try {
    owner = statSync(join(procRoot, String(pid))).uid;
    stat = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return `its bus daemon (pid ${pid}) is gone`;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // A zombie (Z) or dying (X) daemon listens no more.
  if (fields[0] === 'Z' || fields[0] === 'X') return `its bus daemon (pid ${pid}) is gone`;
  if (owner !== uid || fields[19] !== start) return `pid ${pid} is no longer its bus daemon`;
  return true;
}

function currentUid(): number {
  return process.getuid?.() ?? -1;
}

/**
 * Where DBUS_SESSION_BUS_ADDRESS is unset on Linux, sets it in `env` from the first usable
 * bus file, removing stale ones on the way. Returns where the session came from.
 */
export function lookupSessionBus(
  env: NodeJS.ProcessEnv = process.env,
  { platform = process.platform, paths = busFilePaths(env), ...check }: BusFileCheckOptions & { platform?: string; paths?: string[] } = {},
): SessionBusLookup {
  if (platform !== 'linux') return { source: 'platform' };
  if (env['DBUS_SESSION_BUS_ADDRESS']) return { source: 'env' };
  const ignored: string[] = [];
  for (const path of paths) {
    const found = checkBusFile(path, check);
    if (found.ok) {
      env['DBUS_SESSION_BUS_ADDRESS'] = found.record.address;
      return { source: 'file', path };
    }
    if (found.kind === 'absent') continue;
    ignored.push(`${path}: ${found.reason}`);
    if (found.kind === 'stale') {
      try {
        unlinkSync(path);
      } catch {
        // Gone already, or not ours to remove: it stays ignored either way.
      }
    }
  }
  return { source: 'none', ignored };
}

let lookedUp: SessionBusLookup | undefined;

/**
 * This process's lookup, done once: before libsecret's first connection (keytar), and early
 * in the `flint` command. Later calls return the first answer.
 */
export function useSessionBus(): SessionBusLookup {
  lookedUp ??= lookupSessionBus();
  return lookedUp;
}

/** What to tell someone whose keychain is unavailable, given how the session was looked for. */
export function keychainHint(lookup: SessionBusLookup | undefined = lookedUp): string {
  if (lookup?.source === 'none') {
    const ignored = lookup.ignored.length > 0 ? ` (ignored ${lookup.ignored.join('; ')})` : '';
    return (
      'there is no D-Bus session with a keyring here: start Flint with `make start` first ' +
      '(its keyring then serves the other terminals of your user too), or run inside your desktop session' +
      ignored
    );
  }
  if (lookup?.source === 'file') {
    return `the keyring session recorded in ${lookup.path} by \`make start\` did not answer; is \`make start\` still running?`;
  }
  return 'on Linux, Flint needs a running, unlocked Secret Service keyring (e.g. gnome-keyring) in the D-Bus session';
}
