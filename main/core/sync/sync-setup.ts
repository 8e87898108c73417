/**
 * Configuring and removing sync (docs/sync.md, "Configuration and keys"): one
 * implementation for `flint sync configure|remove` and `PUT|DELETE /flint/sync/settings`.
 * Everything is checked before anything is written (a refused configure changes nothing);
 * then the password goes to the OS keychain and the settings to sync.json, which a
 * running server watches. Refusals are RangeErrors in words an administrator can act on.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SecretStore } from '../secrets/secret-store';
import { checkRemoteUrl } from './remote';
import { checkSettings, passwordAccount, readSyncSettings, removeSyncSettings, writeSyncSettings, type SyncSettings } from './sync-config';

/** A CA given as PEM text (over HTTP) is kept here, in the data dir: a certificate is no secret. */
export const SYNC_CA_FILE = 'sync-ca.pem';

export interface SyncSetupInput {
  remote: string;
  username: string;
  auditRemote?: string;
  /** A PEM file already on this computer (`--ca-file`). */
  caFile?: string;
  /** A PEM certificate as text, kept as `<dataDir>/sync-ca.pem` (the HTTP API). */
  caPem?: string;
  /** Upper bound of the retry backoff, seconds. */
  maxRetryDelay?: number;
}

/** Checked settings, ready to be written: what configureSync takes. */
export interface SyncPlan {
  settings: SyncSettings;
  /** PEM text to store as the data dir's CA file. */
  caPem?: string;
}

export interface SyncDataDir {
  dir: string;
  workstationId: string;
}

const withoutTrailingSlash = (url: URL) => url.toString().replace(/\/+$/, '');

/** Checks and normalizes what an administrator gave; writes nothing. Throws RangeError. */
export function planSync(input: SyncSetupInput): SyncPlan {
  if (input.username === '') throw new RangeError('a user name for the server is required');
  const settings: SyncSettings = { remote: withoutTrailingSlash(checkRemoteUrl(input.remote)), username: input.username };
  if (input.auditRemote) settings.auditRemote = withoutTrailingSlash(checkRemoteUrl(input.auditRemote));
  if (input.caFile !== undefined && input.caPem !== undefined) throw new RangeError('give a CA file or a PEM certificate, not both');
  if (input.caFile !== undefined) settings.caFile = readableCaFile(input.caFile);
  if (input.caPem !== undefined) checkPem(input.caPem, 'the CA certificate');
  if (input.maxRetryDelay !== undefined) {
    const d = input.maxRetryDelay;
    if (!Number.isFinite(d) || d < 1 || d > 3600) throw new RangeError('the maximum retry delay must be a number of seconds from 1 to 3600');
    settings.maxRetryDelay = d;
  }
  checkSettings(settings);
  return input.caPem !== undefined ? { settings, caPem: input.caPem } : { settings };
}

/** A CA file as an absolute path (the server may run elsewhere), checked to be a readable PEM. */
export function readableCaFile(path: string): string {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new RangeError(`the CA file ${path} cannot be read`);
  }
  checkPem(text, `the CA file ${path}`);
  return abs;
}

function checkPem(text: string, what: string): void {
  if (!text.includes('-----BEGIN CERTIFICATE-----') || !text.includes('-----END CERTIFICATE-----')) throw new RangeError(`${what} holds no PEM certificate`);
}

/**
 * Writes a checked plan: the password to the keychain first (a running server that sees
 * sync.json change finds it), then the CA file if given as text, then sync.json. A CA
 * file kept from an earlier configuration that the new one does not use is removed.
 */
export async function configureSync(dataDir: SyncDataDir, secrets: SecretStore, plan: SyncPlan, password: string): Promise<SyncSettings> {
  if (password === '') throw new RangeError('a password for the server is required');
  const settings: SyncSettings = { ...plan.settings };
  const ownCa = join(dataDir.dir, SYNC_CA_FILE);
  await secrets.set(passwordAccount(dataDir.workstationId), password);
  if (plan.caPem !== undefined) {
    const tmp = `${ownCa}.${process.pid}.tmp`;
    writeFileSync(tmp, plan.caPem.endsWith('\n') ? plan.caPem : `${plan.caPem}\n`, { mode: 0o600 });
    renameSync(tmp, ownCa);
    settings.caFile = ownCa;
  }
  writeSyncSettings(dataDir.dir, settings);
  if (settings.caFile !== ownCa) rmSync(ownCa, { force: true });
  return settings;
}

/**
 * Stops syncing: forgets the settings, the password and the CA file kept in the data dir,
 * and the inbox when given (`inboxFile`: only with no server holding it open; a running
 * server keeps it until it sees sync.json go, and an inbox left behind is only re-pulled
 * later). Returns whether sync was configured.
 */
export async function removeSync(dataDir: SyncDataDir, secrets: SecretStore, opts: { inboxFile?: string } = {}): Promise<boolean> {
  const had = removeSyncSettings(dataDir.dir);
  await secrets.delete(passwordAccount(dataDir.workstationId));
  rmSync(join(dataDir.dir, SYNC_CA_FILE), { force: true });
  if (opts.inboxFile) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(opts.inboxFile + suffix, { force: true });
  }
  return had;
}

/** Pauses or resumes sync in sync.json; false when sync is not configured. */
export function setSyncPaused(dir: string, paused: boolean): boolean {
  const settings = readSyncSettings(dir);
  if (!settings) return false;
  if (paused) settings.paused = true;
  else delete settings.paused;
  writeSyncSettings(dir, settings);
  return true;
}
