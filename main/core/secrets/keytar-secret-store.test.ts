/**
 * Runs against the real OS keychain: under scripts/test.sh (a private D-Bus session with an
 * unlocked gnome-keyring in a scratch HOME), or your own unlocked session. No mocks.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChild, type ChildScript } from '../store/__fixtures__/build-child';
import type { SecretStore } from './secret-store';
import { KeychainUnavailableError, KeytarSecretStore } from './keytar-secret-store';

/** The contract every SecretStore implementation must meet. */
function secretStoreContract(name: string, make: () => SecretStore): void {
  describe(`${name} (SecretStore contract)`, () => {
    const account = () => `test/${randomBytes(4).toString('hex')}`;

    it('returns null for an account that holds nothing', async () => {
      expect(await make().get(account())).toBeNull();
    });

    it('stores, overwrites and deletes a value', async () => {
      const store = make();
      const a = account();
      await store.set(a, 'first');
      expect(await store.get(a)).toBe('first');
      await store.set(a, 'second ✓ äöü');
      expect(await store.get(a)).toBe('second ✓ äöü');
      expect(await store.delete(a)).toBe(true);
      expect(await store.get(a)).toBeNull();
      expect(await store.delete(a)).toBe(false);
    });

    it('keeps accounts apart', async () => {
      const store = make();
      const [a, b] = [account(), account()];
      await store.set(a, 'A');
      await store.set(b, 'B');
      expect([await store.get(a), await store.get(b)]).toEqual(['A', 'B']);
      await Promise.all([store.delete(a), store.delete(b)]);
    });
  });
}

const service = `flint-test-${randomBytes(4).toString('hex')}`;
secretStoreContract('KeytarSecretStore', () => new KeytarSecretStore({ service }));

describe('KeytarSecretStore', () => {
  it('keeps services apart', async () => {
    const a = new KeytarSecretStore({ service });
    const b = new KeytarSecretStore({ service: `${service}-other` });
    await a.set('shared/account', 'from a');
    expect(await b.get('shared/account')).toBeNull();
    expect(await a.delete('shared/account')).toBe(true);
  });

  it("uses the 'flint' service by default", () => {
    expect(new KeytarSecretStore().service).toBe('flint');
  });
});

describe('KeytarSecretStore without a usable keychain', () => {
  let probe: ChildScript;
  let home: string;

  beforeAll(async () => {
    probe = await buildChild(fileURLToPath(new URL('../store/__fixtures__/keychain-probe.ts', import.meta.url)));
    home = mkdtempSync(join(tmpdir(), 'flint-keyring-'));
  });
  afterAll(() => {
    probe?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  /** Runs the probe child in an environment of our making; returns its JSON verdict. */
  function runProbe(command: string[], env: NodeJS.ProcessEnv): { ok: boolean; name?: string; result?: unknown } {
    const out = spawnSync(command[0] as string, command.slice(1), { env, encoding: 'utf8', timeout: 60_000 });
    try {
      return JSON.parse(out.stdout) as { ok: boolean; name?: string; result?: unknown };
    } catch {
      throw new Error(`probe printed no verdict (status ${out.status}): ${out.stderr}`);
    }
  }

  /** A private D-Bus session with gnome-keyring, in its own HOME; `unlock` = password to unlock with. */
  function inKeyringSession(unlock: string | null, args: string[]) {
    const env = {
      PATH: process.env['PATH'],
      HOME: home,
      XDG_DATA_HOME: join(home, 'data'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      PW: unlock ?? '',
    };
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
    const start =
      unlock === null
        ? 'gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1'
        : 'printf %s "$PW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1';
    const script = `${start}; exec "$0" "$@"`;
    return runProbe(['dbus-run-session', '--', 'sh', '-c', script, process.execPath, probe.script, ...args], env);
  }

  it('throws KeychainUnavailableError when no D-Bus session is reachable', () => {
    const env = { PATH: process.env['PATH'], HOME: home, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
    const verdict = runProbe([process.execPath, probe.script, 'flint-probe', 'get', 'ws/master-key'], env);
    expect(verdict).toMatchObject({ ok: false, name: 'KeychainUnavailableError' });
    const noSession = { PATH: process.env['PATH'], HOME: home };
    expect(runProbe([process.execPath, probe.script, 'flint-probe', 'get', 'ws/master-key'], noSession)).toMatchObject({
      ok: false,
      name: 'KeychainUnavailableError',
    });
  });

  it('throws KeychainUnavailableError for a locked keyring instead of answering null', () => {
    const args = ['flint-probe', 'get', 'ws/master-key'];
    expect(inKeyringSession('pw', ['flint-probe', 'set', 'ws/master-key', 'secret'])).toEqual({ ok: true, result: null });
    expect(inKeyringSession('pw', args)).toEqual({ ok: true, result: 'secret' });
    // The same keyring, not unlocked, then unlocked with a wrong password: libsecret says null.
    expect(inKeyringSession(null, args)).toMatchObject({ ok: false, name: 'KeychainUnavailableError' });
    expect(inKeyringSession('wrong', args)).toMatchObject({ ok: false, name: 'KeychainUnavailableError' });
  });

  it('names the problem in its message', () => {
    expect(new KeychainUnavailableError('Could not connect').message).toMatch(/OS keychain is not available/);
  });
});
