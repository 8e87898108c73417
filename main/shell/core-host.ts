/**
 * How the shell runs the workstation core (the same core `flint serve` runs): in a process
 * of its own, an Electron utility process, so that the core's work (imports, sync pulls,
 * request bursts) never stalls the main process's event loop, which moves windows, opens
 * menus and answers IPC. The measurement behind that is in docs/decisions.md ("The desktop
 * app's core runs in a utility process") and bench/shell-jank.mjs.
 *
 * The shell codes against CoreHost only. startCoreHost() forks the core's entry
 * (dist/desktop-core.js, main/core/desktop/desktop-core-main.ts) with the fork function it is
 * given and talks to it with the messages of main/core/desktop/core-messages.ts:
 *
 *   main.ts:  await app.whenReady(); // Electron allows utilityProcess.fork only after 'ready'
 *             const host = await startCoreHost(utilityProcess.fork);
 *   tests:    const host = await startCoreHost(child_process.fork, { dataDir });
 *
 * This file does not import electron: it is tested in plain Node with child_process.fork.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ReplaySubject, type Observable } from 'rxjs';
import type { SyncStatus } from '../../shared/api/sync';
import { parseCoreEvent, type CoreEvent, type CoreRequest } from '../core/desktop/core-messages';

export interface CoreHost {
  /** http://127.0.0.1:<port>: the UI at /, FHIR at /fhir. */
  readonly baseUrl: string;
  /** First run only: `<origin>/setup#token=...`, opened directly by the shell. */
  readonly setupUrl?: string;
  readonly workstationId: string;
  /** Every distinct sync status, starting with the current one; completes when the core stops. */
  readonly syncStatus$: Observable<SyncStatus>;
  /**
   * Pauses or resumes sync (the same setting as `flint sync pause|resume`). Rejects when sync
   * is not configured on this computer, or when the core has stopped.
   */
  setSyncPaused(paused: boolean): Promise<void>;
  /**
   * Stops sync cleanly and closes the stores; resolves when the core has stopped. If it has
   * not stopped within `stopTimeoutMs` it is killed and close() rejects (after the exit).
   */
  close(): Promise<void>;
  /** Settles if the core stops without close() (a crash): the shell reports it and quits. */
  readonly unexpectedExit: Promise<{ code: number | null; message: string }>;
}

/**
 * What startCoreHost needs of a forked process. Electron's UtilityProcess (postMessage,
 * 'exit' with a code) and Node's ChildProcess (send, 'exit' with a code or null and a
 * signal) both have this shape.
 */
export interface CoreProcess {
  readonly pid?: number | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number | null) => void): unknown;
  /** Electron's UtilityProcess ends the process whatever the argument; Node's ChildProcess sends the signal. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Electron's UtilityProcess. */
  postMessage?(message: unknown): void;
  /** Node's ChildProcess (forked with an IPC channel). */
  send?(message: unknown): boolean;
}

export interface CoreForkOptions {
  /** Electron names the utility process after it (task manager, crash reports). */
  serviceName: string;
  stdio: 'inherit' | 'pipe' | 'ignore';
}

/** Electron's `utilityProcess.fork`, or Node's `child_process.fork`. */
export type ForkCore = (modulePath: string, args: string[], options: CoreForkOptions) => CoreProcess;

export interface CoreHostOptions {
  /** The core's entry (default: the built dist/desktop-core.js, found from this file). */
  modulePath?: string;
  /** The data dir (default: the core resolves it as `flint serve` does: FLINT_DATA_DIR, else the OS default). */
  dataDir?: string;
  /** How long close() waits for the core to stop before it kills it (default 30 s). */
  stopTimeoutMs?: number;
  /** Default 'inherit': the core's log lines go where the shell's go. */
  stdio?: CoreForkOptions['stdio'];
}

export const CORE_SERVICE_NAME = 'Flint core';
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** The built core entry: beside dist/shell/ when this runs from dist/shell/main.js, else the repository's dist/. */
export function builtCoreEntry(): string | undefined {
  for (const rel of ['../desktop-core.js', '../../dist/desktop-core.js']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Forks the core and resolves once it serves. Rejects with the core's own message when it
 * cannot start (it reports that without PHI), or when it exits before it is ready.
 */
export function startCoreHost(fork: ForkCore, options: CoreHostOptions = {}): Promise<CoreHost> {
  const modulePath = options.modulePath ?? builtCoreEntry();
  if (!modulePath) return Promise.reject(new Error('The Flint core is not built (dist/desktop-core.js): run `npm run build`.'));
  const args = options.dataDir === undefined ? [] : ['--data-dir', options.dataDir];
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const child = fork(modulePath, args, { serviceName: CORE_SERVICE_NAME, stdio: options.stdio ?? 'inherit' });
  const send = (request: CoreRequest): void => {
    if (child.postMessage) child.postMessage(request);
    else child.send?.(request);
  };

  // The core sends only distinct statuses (Workstation.syncStatus$); the last one is replayed
  // to each new subscriber.
  const statuses = new ReplaySubject<SyncStatus>(1);
  const syncStatus$ = statuses.asObservable();
  const answers = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exitCode: number | null | undefined; // undefined while running
  let closing = false;
  let stopped = false;
  let onReady: ((e: Extract<CoreEvent, { type: 'ready' }>) => void) | undefined;
  let onFailed: ((message: string) => void) | undefined;
  let settleUnexpected: (v: { code: number | null; message: string }) => void = () => undefined;
  const unexpectedExit = new Promise<{ code: number | null; message: string }>((resolve) => (settleUnexpected = resolve));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      statuses.complete();
      for (const a of answers.values()) a.reject(new Error('The Flint core has stopped.'));
      answers.clear();
      if (!closing) settleUnexpected({ code, message: `The Flint core stopped unexpectedly (exit code ${code ?? 'none: killed'}).` });
      resolve(code);
    }),
  );

  child.on('message', (raw) => {
    const event = parseCoreEvent(raw);
    if (!event) return; // not ours: ignored
    switch (event.type) {
      case 'ready':
        onReady?.(event);
        break;
      case 'failed':
        onFailed?.(event.message);
        break;
      case 'sync-status':
        statuses.next(event.status);
        break;
      case 'sync-paused': {
        const answer = answers.get(event.id);
        answers.delete(event.id);
        if (event.ok) answer?.resolve();
        else answer?.reject(new Error(event.message ?? 'Sync could not be paused or resumed.'));
        break;
      }
      case 'stopped':
        stopped = true;
        break;
    }
  });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      if (exitCode !== undefined) return;
      send({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), stopTimeoutMs)));
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first !== 'late') {
        if (first !== 0 && !stopped) throw new Error(`The Flint core stopped with exit code ${first ?? 'none'} while closing.`);
        return;
      }
      child.kill('SIGKILL');
      await exited;
      throw new Error(`The Flint core did not stop within ${stopTimeoutMs / 1000} s and was killed.`);
    })());

  return new Promise<CoreHost>((resolve, reject) => {
    onFailed = (message) => reject(new Error(message));
    void exited.then((code) => reject(new Error(`The Flint core exited before it was ready (exit code ${code ?? 'none: killed'}).`)));
    onReady = (ready) => {
      resolve({
        baseUrl: ready.baseUrl,
        ...(ready.setupUrl !== undefined ? { setupUrl: ready.setupUrl } : {}),
        workstationId: ready.workstationId,
        syncStatus$,
        setSyncPaused(paused) {
          if (exitCode !== undefined || closing) return Promise.reject(new Error('The Flint core has stopped.'));
          const id = nextId++;
          return new Promise<void>((ok, fail) => {
            answers.set(id, { resolve: ok, reject: fail });
            send({ type: 'set-sync-paused', id, paused });
          });
        },
        close,
        unexpectedExit,
      });
    };
  });
}
