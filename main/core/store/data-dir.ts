/**
 * The data dir: one folder per workstation holding every store file, plus `flint.json`
 * (the only plaintext file: format and workstation id, no secret, no PHI) and `flint.lock`
 * (the pid of the one process allowed in). The master key lives in the OS keychain under
 * `<workstationId>/master-key`; stores use keys derived from it per purpose (HKDF-SHA256),
 * so one keychain entry protects them all and no key is ever reused across purposes.
 */
import { hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { KeychainUnavailableError, type SecretStore } from '../secrets/secret-store';

export type KeyPurpose = 'store' | 'index' | 'audit' | 'audit-index' | 'tokens' | 'auth' | 'inbox' | 'export';
const PURPOSES: readonly KeyPurpose[] = ['store', 'index', 'audit', 'audit-index', 'tokens', 'auth', 'inbox', 'export'];

export interface DataDir {
  readonly dir: string;
  /** 6 lowercase base36 chars, random, fixed at first run. */
  readonly workstationId: string;
  /** The keychain account holding this data dir's master key. */
  readonly keyAccount: string;
  /** A fresh copy of the 32-byte key for one purpose. */
  purposeKey(purpose: KeyPurpose): Buffer;
  /** `<dir>/<name>.db`; name is lowercase letters, digits and dashes. */
  storeFile(name: string): string;
  /** Forgets the master key and gives the lock up. Close the stores first. */
  release(): Promise<void>;
}

/** The data dir holds a store, but the keychain has no key for it: the data is unreadable. */
export class MissingKeyError extends Error {
  constructor(readonly dir: string, readonly account: string) {
    super(
      `the data dir ${dir} holds encrypted stores but the OS keychain has no master key for it ` +
        `(account "${account}"); restore that keychain entry. A new key cannot decrypt the existing data`,
    );
    this.name = 'MissingKeyError';
  }
}

/** Another live process (or this one) has the data dir open. */
export class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number | null) {
    super(
      `the data dir ${dir} is in use by ${pid === null ? 'another process' : `process ${pid}`}; ` +
        `if no Flint server is running, delete ${join(dir, LOCK_FILE)}`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** flint.json is unreadable, or missing while stores exist. */
export class DataDirInvalidError extends Error {
  constructor(readonly dir: string, detail: string) {
    super(`the data dir ${dir} is not a valid Flint data dir: ${detail}`);
    this.name = 'DataDirInvalidError';
  }
}

const CONFIG_FILE = 'flint.json';
const LOCK_FILE = 'flint.lock';
const FORMAT = 1;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const STORE_NAME = /^[a-z0-9][a-z0-9-]*$/;

export interface OpenOptions {
  /**
   * Without the lock, for commands that only use databases several processes may share
   * (auth.db through SQLite's own locking) while a server holds the data dir. A data dir
   * that does not exist yet is still created under the lock.
   */
  shared?: boolean;
}

export async function openDataDir(dir: string, secrets: SecretStore, opts: OpenOptions = {}): Promise<DataDir> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const unlock = opts.shared && readConfig(root) !== null ? () => undefined : acquireLock(root);
  try {
    const hasStores = readdirSync(root).some((f) => /\.db($|-)/.test(f));
    let workstationId = readConfig(root);
    if (workstationId === null && hasStores) throw new DataDirInvalidError(root, `${CONFIG_FILE} is missing`);
    const firstRun = workstationId === null;
    workstationId ??= newWorkstationId();
    const account = `${workstationId}/master-key`;
    let master = decodeKey(await secrets.get(account), root, account);
    if (!master) {
      if (hasStores) throw new MissingKeyError(root, account);
      master = await createMasterKey(secrets, account);
    }
    // Written after the key is safely in the keychain: a failed first run leaves nothing.
    if (firstRun) writeConfig(root, workstationId);
    return makeDataDir(root, workstationId, account, master, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

function makeDataDir(dir: string, workstationId: string, keyAccount: string, master: Buffer, unlock: () => void): DataDir {
  let released = false;
  return {
    dir,
    workstationId,
    keyAccount,
    purposeKey(purpose) {
      if (released) throw new Error('the data dir was released');
      if (!PURPOSES.includes(purpose)) throw new RangeError(`unknown key purpose: ${String(purpose)}`);
      // Empty salt is fine: the input is a uniformly random 32-byte key (RFC 5869, 3.1).
      return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `flint/v1/${purpose}`, 32));
    },
    storeFile(name) {
      if (!STORE_NAME.test(name)) throw new RangeError(`invalid store name: ${name}`);
      return join(dir, `${name}.db`);
    },
    async release() {
      if (released) return;
      released = true;
      master.fill(0);
      unlock();
    },
  };
}

async function createMasterKey(secrets: SecretStore, account: string): Promise<Buffer> {
  const key = randomBytes(32);
  await secrets.set(account, key.toString('base64'));
  // Read it back: a keychain that accepts writes it cannot return would lose every store.
  const stored = await secrets.get(account);
  if (stored !== key.toString('base64')) {
    throw new KeychainUnavailableError('the keychain did not return the master key just stored');
  }
  return key;
}

function decodeKey(value: string | null, dir: string, account: string): Buffer | null {
  if (value === null) return null;
  const key = Buffer.from(value, 'base64');
  // Never replace a damaged entry: that would orphan the data encrypted under it.
  if (key.length !== 32 || key.toString('base64') !== value) {
    throw new DataDirInvalidError(dir, `the keychain entry "${account}" is not a 32-byte base64 key`);
  }
  return key;
}

function newWorkstationId(): string {
  let id = '';
  for (let i = 0; i < 6; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function readConfig(dir: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(dir, CONFIG_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new DataDirInvalidError(dir, `${CONFIG_FILE} is not JSON`);
  }
  const { format, workstationId } = (config ?? {}) as { format?: unknown; workstationId?: unknown };
  if (format !== FORMAT) throw new DataDirInvalidError(dir, `${CONFIG_FILE} has unsupported format ${String(format)}`);
  if (typeof workstationId !== 'string' || !/^[0-9a-z]{6}$/.test(workstationId)) {
    throw new DataDirInvalidError(dir, `${CONFIG_FILE} has an invalid workstationId`);
  }
  return workstationId;
}

/** Atomic and durable: temp file, fsync, rename. */
function writeConfig(dir: string, workstationId: string): void {
  const tmp = join(dir, `${CONFIG_FILE}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ format: FORMAT, workstationId })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, CONFIG_FILE));
}

interface LockOwner {
  pid: number;
  host: string;
}

/**
 * Takes `<dir>/flint.lock` with O_EXCL; returns the function that gives it back. A lock left
 * by a dead process on this host is taken over. A lock from another host (a shared folder)
 * counts as held: its pid means nothing here.
 */
function acquireLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readLock(path);
      if (attempt > 0 || !owner || owner.host !== me.host || isAlive(owner.pid)) {
        throw new DataDirLockedError(dir, owner?.pid ?? null);
      }
      // Stale: its process is gone. Remove and retry once; if another starter won the
      // retry, its O_EXCL create beats ours and we report the lock as held.
      unlinkQuietly(path);
    }
  }
  const onExit = () => release();
  process.once('exit', onExit); // a normal exit without release() must not leave the lock behind
  let held = true;
  function release(): void {
    if (!held) return;
    held = false;
    process.removeListener('exit', onExit);
    if (readLock(path)?.pid === me.pid) unlinkQuietly(path);
  }
  return release;
}

function readLock(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host } : null;
  } catch {
    return null; // unreadable or half-written (a starter between create and write): held
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but someone else's
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
