/**
 * Starts a real workstation process (`flint serve`) on a fresh data dir and a free
 * loopback port, as an integrator would. Tests talk to it over HTTP only.
 * Requires a built dist/ (npm test builds first) and a reachable keychain.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTENING, REPO, spawnFlint } from './flint-process';

export { REPO };

export interface RunningWorkstation {
  baseUrl: string;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export function tempDataDir(prefix = 'flint-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export async function startWorkstation(opts: StartOptions = {}): Promise<RunningWorkstation> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const flint = spawnFlint(['serve', '--data-dir', dataDir, '--port', '0', ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
  });
  const [, baseUrl] = await flint.waitFor(LISTENING, opts.timeoutMs ?? 30_000);
  return {
    baseUrl: baseUrl!,
    dataDir,
    proc: flint.proc,
    output: flint.output,
    stop: async () => (await flint.stop('SIGTERM')).code,
    kill: async () => void (await flint.stop('SIGKILL')),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
