/**
 * Starts a real workstation process (`flint serve`) on a fresh data dir and a free
 * loopback port, as an integrator would. Tests talk to it over HTTP only.
 * Requires a built dist/ (npm test builds first) and a reachable keychain.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FhirClient } from './fhir-client';
import { LISTENING, REPO, runFlint, spawnFlint } from './flint-process';
import { UNTIL_DEFAULT_MS } from './until';

export { REPO };

export interface RunningWorkstation {
  baseUrl: string;
  /** An administrator's bearer token (`flint token create`, all scopes) for this data dir. */
  token: string;
  /** A client that sends `token`. */
  client(): FhirClient;
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
  const [, baseUrl] = await flint.waitFor(LISTENING, opts.timeoutMs ?? UNTIL_DEFAULT_MS);
  const token = await adminToken(dataDir, { ...process.env, ...opts.env });
  return {
    baseUrl: baseUrl!,
    token,
    client: () => new FhirClient(baseUrl!, token),
    dataDir,
    proc: flint.proc,
    output: flint.output,
    stop: async () => (await flint.stop('SIGTERM')).code,
    kill: async () => void (await flint.stop('SIGKILL')),
  };
}

/** An all-scopes administrator token for a data dir, minted by the CLI as an integrator would. */
export async function adminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await runFlint(['token', 'create', '--scope', 'user/*.cruds system/*.cruds', '--ttl', '1d', '--data-dir', dataDir], { env });
  if (r.code !== 0) throw new Error(`flint token create failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * One workstation for a test file: started before its tests, stopped and its data dir
 * removed after. Inside tests, `t.ws` is the workstation and `t.c` an admin client.
 */
export function workstationForFile(opts: StartOptions = {}): { ws: RunningWorkstation; c: FhirClient } {
  const t = {} as { ws: RunningWorkstation; c: FhirClient };
  beforeAll(async () => {
    t.ws = await startWorkstation(opts);
    t.c = t.ws.client();
  });
  afterAll(async () => {
    if (!t.ws) return;
    await t.ws.stop();
    removeDir(t.ws.dataDir);
  });
  return t;
}
