/**
 * Where Flint keeps secrets that must not live in the data dir (the master key, above all).
 * Implementations: KeytarSecretStore (the OS keychain). Values are opaque strings; callers
 * encode binary secrets (base64).
 */
import { keychainHint } from './session-bus';

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
  /** `hint`: what to do about it; by default said from how the D-Bus session was looked for (session-bus.ts). */
  constructor(readonly reason: string, options?: { cause?: unknown; hint?: string }) {
    super(`the OS keychain is not available (${reason}); ${options?.hint ?? keychainHint()}`, options);
    this.name = 'KeychainUnavailableError';
  }
}
