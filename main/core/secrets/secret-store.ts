/**
 * Where Flint keeps secrets that must not live in the data dir (the master key, above all).
 * Implementations: KeytarSecretStore (the OS keychain). Values are opaque strings; callers
 * encode binary secrets (base64).
 */
export interface SecretStore {
  /** The value, or null when the account holds none. */
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  /** True when a value was deleted, false when there was none. */
  delete(account: string): Promise<boolean>;
}

/**
 * The secret store cannot be used right now: no keychain service (on Linux: no D-Bus session
 * or no Secret Service provider), or the keyring is locked. Nothing was read or written.
 */
export class KeychainUnavailableError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(
      `the OS keychain is not available (${reason}); on Linux, Flint needs a running, unlocked ` +
        'Secret Service keyring (e.g. gnome-keyring) in the D-Bus session',
      options,
    );
    this.name = 'KeychainUnavailableError';
  }
}
