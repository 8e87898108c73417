/**
 * Runs the `flint` command (bin/flint.js) as a child process with any arguments and
 * environment, for CLI tests that startWorkstation() cannot express (no --data-dir,
 * commands expected to fail, signals other than SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { UNTIL_DEFAULT_MS } from './until';

/** The repository root (bin/flint.js runs from here). */
export const REPO = resolve(import.meta.dirname, '../..');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FlintProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as received. */
  output(): string;
  exited: Promise<ExitStatus>;
  /** Resolves with the first match of `re` in the combined output; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export function spawnFlint(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): FlintProcess {
  const proc = spawn(process.execPath, [join(REPO, 'bin/flint.js'), ...args], {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) proc.stdin!.end(opts.input);
  let out = '';
  let err = '';
  let all = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    all += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    all += d.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<ExitStatus>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    exited,
    waitFor(re, timeoutMs = UNTIL_DEFAULT_MS) {
      return new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = re.exec(all);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${all}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((s) => {
          // Let the last output chunks arrive before judging.
          setImmediate(() => {
            check();
            if (listeners.has(check)) {
              done();
              reject(new Error(`exited (${s.code ?? s.signal}) before ${re}; output:\n${all}`));
            }
          });
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!hasExited && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs `flint args...` to completion (killed after timeoutMs). */
export async function runFlint(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const p = spawnFlint(args, opts);
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), opts.timeoutMs ?? UNTIL_DEFAULT_MS);
  const status = await p.exited;
  clearTimeout(timer);
  return { ...status, stdout: p.stdout(), stderr: p.stderr() };
}

/** The base URL a `flint serve` prints when ready. */
export const LISTENING = /listening at (http:\/\/\S+\/fhir)/;
