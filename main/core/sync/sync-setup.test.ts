/**
 * Configuring and removing sync (what `flint sync configure|remove` and
 * `PUT|DELETE /flint/sync/settings` share), in a temp dir with an in-memory keychain.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../audit/__fixtures__/events';
import { passwordAccount, readSyncSettings } from './sync-config';
import { configureSync, planSync, removeSync, setSyncPaused, SYNC_CA_FILE } from './sync-setup';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let dir: string;
let secrets: MemorySecretStore;
const dataDir = () => ({ dir, workstationId: 'ws1234' });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-sync-setup-'));
  secrets = new MemorySecretStore();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('planSync', () => {
  it('normalizes what it accepts', () => {
    expect(planSync({ remote: 'https://couch.example:6984/clinic/', username: 'ws', auditRemote: 'https://couch.example:6984/audit/', maxRetryDelay: 5 })).toEqual({
      settings: { remote: 'https://couch.example:6984/clinic', username: 'ws', auditRemote: 'https://couch.example:6984/audit', maxRetryDelay: 5 },
    });
  });

  it('refuses what Flint cannot use, with a RangeError in words', () => {
    const bad = [
      { remote: 'http://u:p@couch.example/clinic', username: 'ws' },
      { remote: 'ftp://couch.example/clinic', username: 'ws' },
      { remote: 'not a url', username: 'ws' },
      { remote: 'https://couch.example/Clinic', username: 'ws' },
      { remote: 'https://couch.example/clinic', username: '' },
      { remote: 'https://couch.example/clinic', username: 'ws', maxRetryDelay: 0 },
      { remote: 'https://couch.example/clinic', username: 'ws', caPem: 'not a certificate' },
      { remote: 'https://couch.example/clinic', username: 'ws', caFile: join(dir, 'missing.pem') },
    ];
    for (const input of bad) expect(() => planSync(input), JSON.stringify(input)).toThrow(RangeError);
  });
});

describe('configureSync and removeSync', () => {
  it('puts the password in the keychain and the rest in sync.json; a CA given as text is kept in the data dir', async () => {
    const plan = planSync({ remote: 'https://couch.example/clinic', username: 'ws', caPem: PEM });
    await configureSync(dataDir(), secrets, plan, 'the-Secret-1');
    expect(secrets.values.get(passwordAccount('ws1234'))).toBe('the-Secret-1');
    expect(readFileSync(join(dir, 'sync.json'), 'utf8')).not.toContain('the-Secret-1');
    expect(readSyncSettings(dir)).toEqual({ remote: 'https://couch.example/clinic', username: 'ws', caFile: join(dir, SYNC_CA_FILE) });
    expect(readFileSync(join(dir, SYNC_CA_FILE), 'utf8')).toBe(PEM);

    // Configured again without a CA: its file goes.
    await configureSync(dataDir(), secrets, planSync({ remote: 'https://couch.example/clinic', username: 'ws2' }), 'pw-2');
    expect(existsSync(join(dir, SYNC_CA_FILE))).toBe(false);
    expect(readSyncSettings(dir)?.username).toBe('ws2');
    await expect(configureSync(dataDir(), secrets, planSync({ remote: 'https://couch.example/clinic', username: 'ws3' }), '')).rejects.toThrow(RangeError);
    expect(readSyncSettings(dir)?.username).toBe('ws2');

    expect(setSyncPaused(dir, true)).toBe(true);
    expect(readSyncSettings(dir)?.paused).toBe(true);

    writeFileSync(join(dir, 'inbox.db'), 'x');
    expect(await removeSync(dataDir(), secrets, { inboxFile: join(dir, 'inbox.db') })).toBe(true);
    expect(existsSync(join(dir, 'sync.json'))).toBe(false);
    expect(existsSync(join(dir, 'inbox.db'))).toBe(false);
    expect(secrets.values.has(passwordAccount('ws1234'))).toBe(false);
    expect(await removeSync(dataDir(), secrets)).toBe(false);
    expect(setSyncPaused(dir, false)).toBe(false);
  });
});
