/**
 * Where a workstation syncs to (docs/sync.md, "Configuration and keys"). The settings are
 * `sync.json` in the data dir: no secret, no PHI, written atomically, readable by the CLI
 * while a server runs. The password lives in the OS keychain (`<workstationId>/sync-password`).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRemoteUrl, databaseName, siblingDatabase, type RemoteEndpoint } from './remote';

export const SYNC_FILE = 'sync.json';
export const SYNC_STATUS_FILE = 'sync-status.json';
export const DEFAULT_MAX_RETRY_DELAY_S = 60;

export interface SyncSettings {
  /** The clinic database, e.g. https://couch.clinic.example:6984/clinic. */
  remote: string;
  username: string;
  /** The central audit database; default `<remote db>-audit` on the same server. */
  auditRemote?: string;
  caFile?: string;
  paused?: boolean;
  /** Upper bound of the retry backoff, seconds. */
  maxRetryDelay?: number;
}

export const passwordAccount = (workstationId: string): string => `${workstationId}/sync-password`;

export function auditRemoteOf(s: SyncSettings): string {
  return s.auditRemote ?? siblingDatabase(s.remote, `${databaseName(s.remote)}-audit`);
}

/** The settings, or undefined when sync is not configured. Throws on a damaged file. */
export function readSyncSettings(dataDir: string): SyncSettings | undefined {
  const file = join(dataDir, SYNC_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file} is not valid JSON: run "flint sync configure" again`);
  }
  return checkSettings(raw, file);
}

export function checkSettings(raw: unknown, where = SYNC_FILE): SyncSettings {
  const s = raw as Partial<SyncSettings> | null;
  if (!s || typeof s !== 'object' || typeof s.remote !== 'string' || typeof s.username !== 'string' || s.username === '') {
    throw new Error(`${where} needs "remote" and "username"`);
  }
  checkRemoteUrl(s.remote);
  if (s.auditRemote !== undefined) checkRemoteUrl(s.auditRemote);
  const out: SyncSettings = { remote: s.remote.replace(/\/+$/, ''), username: s.username };
  if (s.auditRemote !== undefined) out.auditRemote = s.auditRemote.replace(/\/+$/, '');
  if (s.caFile !== undefined) out.caFile = String(s.caFile);
  if (s.paused === true) out.paused = true;
  if (s.maxRetryDelay !== undefined) {
    const d = Number(s.maxRetryDelay);
    if (!Number.isFinite(d) || d < 1 || d > 3600) throw new Error(`${where}: maxRetryDelay must be 1..3600 seconds`);
    out.maxRetryDelay = d;
  }
  return out;
}

export function writeSyncSettings(dataDir: string, settings: SyncSettings): void {
  const file = join(dataDir, SYNC_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checkSettings(settings), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeSyncSettings(dataDir: string): boolean {
  const file = join(dataDir, SYNC_FILE);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

/** The endpoint to connect to, given the password (from the keychain). */
export function endpointFor(settings: SyncSettings, password: string): RemoteEndpoint {
  const e: RemoteEndpoint = { url: settings.remote, username: settings.username, password };
  if (settings.caFile) e.caFile = settings.caFile;
  return e;
}
