/**
 * `<data dir>/server.json`: where the server that holds a data dir listens, so that
 * commands run beside it (`flint import`) can work through it rather than open the stores
 * it holds. Plaintext by design: a loopback URL and a process id, no secret, no PHI.
 * Written once the listener is up, removed at shutdown; a file left by a killed server is
 * recognised by its process no longer running.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'server.json';

export interface ServerInfo {
  baseUrl: string;
  pid: number;
}

export function writeServerFile(dataDir: string, baseUrl: string): void {
  const tmp = join(dataDir, `${FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ baseUrl, pid: process.pid } satisfies ServerInfo)}\n`, { mode: 0o600 });
  renameSync(tmp, join(dataDir, FILE));
}

export function removeServerFile(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}

/** The running server of a data dir, if one runs; undefined when none does (or its file is stale). */
export function runningServer(dataDir: string): ServerInfo | undefined {
  let info: Partial<ServerInfo>;
  try {
    info = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Partial<ServerInfo>;
  } catch {
    return undefined;
  }
  if (typeof info.baseUrl !== 'string' || typeof info.pid !== 'number' || !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+\/fhir$/.test(info.baseUrl)) return undefined;
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // no such process: a killed server's file
  }
  return { baseUrl: info.baseUrl, pid: info.pid };
}
