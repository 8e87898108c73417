/**
 * SecretStore over the OS keychain through keytar (Secret Service on Linux, Keychain on
 * macOS, Credential Vault on Windows).
 *
 * On Linux a locked keyring does not fail reads: libsecret answers "nothing stored" (tried
 * with gnome-keyring: locked or unlocked with a wrong password, getPassword resolves null;
 * only writes fail, "Cannot create an item in a locked collection"). A null would make the
 * data dir believe its master key is gone, so a null is confirmed by a write probe: if the
 * keychain refuses a throwaway write, the null meant "locked", and get() throws
 * KeychainUnavailableError instead.
 *
 * libsecret reads DBUS_SESSION_BUS_ADDRESS when it first connects, so before the first call
 * a process without one looks for the session `make start` recorded (session-bus.ts).
 */
import { randomBytes } from 'node:crypto';
import keytar from 'keytar';
import { KeychainUnavailableError, type SecretStore } from './secret-store';
import { useSessionBus } from './session-bus';

export { KeychainUnavailableError } from './secret-store';

/**
 * Not a valid `<workstationId>/<name>` account, so it never collides with a real secret;
 * unique per probe, because two processes probing the same item at once make the Secret
 * Service delete the item one of them is still writing (seen as "No such interface
 * org.freedesktop.Secret.Item" when several workstations start together).
 */
const probeAccount = (): string => `.flint-keychain-probe-${process.pid}-${randomBytes(4).toString('hex')}`;

export interface KeytarSecretStoreOptions {
  /** The keychain service the accounts live under; 'flint' unless tests or side-by-side installs need another. */
  service?: string;
}

export class KeytarSecretStore implements SecretStore {
  readonly service: string;

  constructor({ service = 'flint' }: KeytarSecretStoreOptions = {}) {
    if (!service) throw new RangeError('the keychain service name must not be empty');
    this.service = service;
  }

  async get(account: string): Promise<string | null> {
    checkAccount(account);
    const value = await keychain(() => keytar.getPassword(this.service, account));
    if (value === null) await this.probeWritable();
    return value;
  }

  async set(account: string, value: string): Promise<void> {
    checkAccount(account);
    if (!value) throw new RangeError('an empty secret cannot be stored');
    await keychain(() => keytar.setPassword(this.service, account, value));
  }

  async delete(account: string): Promise<boolean> {
    checkAccount(account);
    const deleted = await keychain(() => keytar.deletePassword(this.service, account));
    // A locked keyring also answers false here; tell "nothing there" from "cannot look".
    if (!deleted) await this.probeWritable();
    return deleted;
  }

  private async probeWritable(): Promise<void> {
    const account = probeAccount();
    await keychain(() => keytar.setPassword(this.service, account, 'probe'));
    await keychain(() => keytar.deletePassword(this.service, account));
  }
}

function checkAccount(account: string): void {
  if (!account) throw new RangeError('the keychain account must not be empty');
}

/** D-Bus answers that mean "the item moved under us", not "the keychain is unusable". */
const TRANSIENT = /No such interface|No such object|UnknownObject|UnknownMethod/i;

/**
 * keytar rejects only when the backend fails (no D-Bus, no provider, locked): map that.
 * A transient Secret Service error (an item changed by another process mid-call) is
 * retried a few times first.
 */
async function keychain<T>(call: () => Promise<T>): Promise<T> {
  useSessionBus();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      // keytar's messages name the backend failure, never the secret.
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt < 4 && TRANSIENT.test(reason)) {
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      throw new KeychainUnavailableError(reason, { cause: err });
    }
  }
}
