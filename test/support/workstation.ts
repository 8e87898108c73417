/**
 * Starts a real workstation process (`node bin/flint.js serve`) on a fresh data dir and
 * loopback port, as an integrator would. Tests talk to it over HTTP only.
 * Requires a built dist/ (npm test builds first) and a reachable keychain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

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
  const proc = spawn(process.execPath, [join(REPO, 'bin/flint.js'), 'serve', '--data-dir', dataDir, '--port', '0', ...(opts.args ?? [])], {
    cwd: REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const baseUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`workstation did not start:\n${out}`)), opts.timeoutMs ?? 30_000);
    const check = () => {
      const m = /listening at (http:\/\/\S+\/fhir)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`workstation exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    baseUrl,
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
