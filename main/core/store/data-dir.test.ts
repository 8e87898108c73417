/**
 * Runs against the real OS keychain (see keytar-secret-store.test.ts): scripts/test.sh
 * provides a private, unlocked gnome-keyring.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { DataDirInvalidError, DataDirLockedError, MissingKeyError, openDataDir, type DataDir } from './data-dir';
import { StoreOpenError, openEncryptedPouch } from './encrypted-pouch';

const secrets = new KeytarSecretStore({ service: `flint-test-${randomBytes(4).toString('hex')}` });
let root: string;
const opened: DataDir[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flint-datadir-'));
});
afterEach(async () => {
  for (const d of opened.splice(0)) {
    await d.release();
    await secrets.delete(d.keyAccount);
  }
  rmSync(root, { recursive: true, force: true });
});

async function open(dir = join(root, 'data')): Promise<DataDir> {
  const d = await openDataDir(dir, secrets);
  opened.push(d);
  return d;
}

async function reopen(d: DataDir): Promise<DataDir> {
  await d.release();
  opened.splice(opened.indexOf(d), 1);
  return open(d.dir);
}

describe('openDataDir', () => {
  it('creates the workstation id and master key on first run, and reuses them', async () => {
    const first = await open();
    expect(first.workstationId).toMatch(/^[0-9a-z]{6}$/);
    expect(first.keyAccount).toBe(`${first.workstationId}/master-key`);
    expect(JSON.parse(readFileSync(join(first.dir, 'flint.json'), 'utf8'))).toEqual({
      format: 1,
      workstationId: first.workstationId,
    });
    expect(Buffer.from((await secrets.get(first.keyAccount)) ?? '', 'base64')).toHaveLength(32);
    const keys = (['store', 'index', 'audit', 'tokens'] as const).map((p) => first.purposeKey(p).toString('hex'));
    expect(new Set(keys).size).toBe(4);
    expect(first.purposeKey('store')).toHaveLength(32);

    const second = await reopen(first);
    expect(second.workstationId).toBe(first.workstationId);
    expect(second.purposeKey('store').toString('hex')).toBe(keys[0]);
  });

  it('keeps the only plaintext file free of secrets and opens stores with the derived key', async () => {
    const d = await open();
    const db = await openEncryptedPouch({ file: d.storeFile('resources'), key: d.purposeKey('store') });
    await db.put({ _id: 'x' });
    await db.close();
    expect(readdirSync(d.dir).sort()).toEqual(['flint.json', 'flint.lock', 'resources.db']);
    const master = (await secrets.get(d.keyAccount)) ?? '';
    expect(readFileSync(join(d.dir, 'flint.json'), 'utf8')).not.toContain(master);
    await expect(openEncryptedPouch({ file: d.storeFile('resources'), key: d.purposeKey('index') })).rejects.toBeInstanceOf(
      StoreOpenError,
    );
    expect(() => d.storeFile('../escape')).toThrow(RangeError);
  });

  it('throws MissingKeyError naming the account when stores exist but the key is gone', async () => {
    const d = await open();
    const db = await openEncryptedPouch({ file: d.storeFile('resources'), key: d.purposeKey('store') });
    await db.close();
    await d.release();
    await secrets.delete(d.keyAccount);
    const opening = openDataDir(d.dir, secrets);
    await expect(opening).rejects.toBeInstanceOf(MissingKeyError);
    await expect(opening).rejects.toThrow(`"${d.workstationId}/master-key"`);
    expect(await secrets.get(d.keyAccount)).toBeNull(); // no replacement key was minted
    expect(existsSync(join(d.dir, 'flint.lock'))).toBe(false); // the failed open let go of the lock
  });

  it('refuses a data dir with stores but no flint.json', async () => {
    const dir = join(root, 'orphan');
    const d = await open(dir);
    await d.release();
    rmSync(join(dir, 'flint.json'));
    writeFileSync(join(dir, 'resources.db'), '');
    await expect(openDataDir(dir, secrets)).rejects.toBeInstanceOf(DataDirInvalidError);
  });

  it('locks the data dir against a second opener until released', async () => {
    const d = await open();
    const lock = JSON.parse(readFileSync(join(d.dir, 'flint.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    await expect(openDataDir(d.dir, secrets)).rejects.toBeInstanceOf(DataDirLockedError);
    const again = await reopen(d);
    expect(again.workstationId).toBe(d.workstationId);
  });

  it('takes over a lock left by a dead process, not one held by a live one', async () => {
    const d = await open();
    await d.release();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(d.dir, 'flint.lock'), JSON.stringify({ pid: Number(dead.stdout), host: hostname() }));
    const taken = await open(d.dir);
    expect(JSON.parse(readFileSync(join(d.dir, 'flint.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await taken.release();
    writeFileSync(join(d.dir, 'flint.lock'), JSON.stringify({ pid: process.ppid, host: hostname() }));
    await expect(openDataDir(d.dir, secrets)).rejects.toThrow(DataDirLockedError);
    writeFileSync(join(d.dir, 'flint.lock'), JSON.stringify({ pid: Number(dead.stdout), host: 'elsewhere' }));
    await expect(openDataDir(d.dir, secrets)).rejects.toThrow(DataDirLockedError);
    rmSync(join(d.dir, 'flint.lock'));
  });

  it('runs two data dirs side by side with their own ids, keys and stores', async () => {
    const a = await open(join(root, 'a'));
    const b = await open(join(root, 'b'));
    expect(a.workstationId).not.toBe(b.workstationId);
    expect(a.purposeKey('store').equals(b.purposeKey('store'))).toBe(false);
    const dbA = await openEncryptedPouch({ file: a.storeFile('resources'), key: a.purposeKey('store') });
    const dbB = await openEncryptedPouch({ file: b.storeFile('resources'), key: b.purposeKey('store') });
    await dbA.put({ _id: 'only-in-a' });
    await dbB.put({ _id: 'only-in-b' });
    expect((await dbA.allDocs()).rows.map((r) => r.id)).toEqual(['only-in-a']);
    expect((await dbB.allDocs()).rows.map((r) => r.id)).toEqual(['only-in-b']);
    await Promise.all([dbA.close(), dbB.close()]);
  });

  it('forgets the key on release', async () => {
    const d = await open();
    await d.release();
    expect(() => d.purposeKey('store')).toThrow(/released/);
    expect(existsSync(join(d.dir, 'flint.lock'))).toBe(false);
  });
});
