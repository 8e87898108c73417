/**
 * sync-status.json in the data dir: the status a running server last wrote (no secret,
 * no PHI), which is what `flint sync status` prints while the server runs.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNC_STATUS_FILE } from './sync-config';
import type { SyncStatus } from './sync-status';

export type WrittenStatus = SyncStatus & { server: { pid: number } | null; at: string };

/** sync-status.json: the status as JSON (no secret, no PHI), with the writing process's pid. */
export function writeStatusFile(dataDir: string, s: SyncStatus, running = true): void {
  const file = join(dataDir, SYNC_STATUS_FILE);
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...s, server: running ? { pid: process.pid } : null, at: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Best effort: the HTTP endpoint is the authoritative status.
  }
}

/** The status last written, or undefined. */
export function readStatusFile(dataDir: string): WrittenStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, SYNC_STATUS_FILE), 'utf8')) as WrittenStatus;
  } catch {
    return undefined;
  }
}

/** The status written by a server that is still running on this data dir, or undefined. */
export function liveStatus(dataDir: string): WrittenStatus | undefined {
  const written = readStatusFile(dataDir);
  if (!written?.server) return undefined;
  try {
    process.kill(written.server.pid, 0);
    return written;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? written : undefined;
  }
}
