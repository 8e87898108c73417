/**
 * The workstation core as the desktop app runs it: in a process of its own (an Electron
 * utility process; docs/decisions.md, "The desktop app's core runs in a utility process"),
 * talking to the shell over its parent port with the messages of core-messages.ts.
 *
 * It starts the same workstation `flint serve` starts (the data dir resolved the same way,
 * a free port on 127.0.0.1), then: `ready`; every distinct sync status; answers to
 * `set-sync-paused`; on `stop` (or when the parent goes away) it stops sync cleanly, closes
 * the stores and answers `stopped`. A start that fails is reported as `failed` with a message
 * free of PHI (start-failure.ts). Returns the process's exit code: 0 stopped, 1 failed.
 */
import type { Subscription } from 'rxjs';
import { startWorkstation, type Workstation, type WorkstationOptions } from '../app';
import { resolveDataDir } from '../config';
import { parseCoreRequest, type CoreRequest } from './core-messages';
import type { ParentPort } from './parent-port';
import { startFailureMessage } from './start-failure';

export interface DesktopCoreOptions {
  /** --data-dir; default FLINT_DATA_DIR, else the OS default (as `flint serve`). */
  dataDir?: string;
  log?: (line: string) => void;
  /** Passed to startWorkstation as is (tests: uiDir). */
  workstation?: Omit<WorkstationOptions, 'dataDir' | 'port' | 'host' | 'log'>;
}

const NOT_CONFIGURED = 'Sync is not set up on this computer.';
const NOT_APPLIED = 'The sync setting could not be changed on this computer.';

export async function runDesktopCore(port: ParentPort, opts: DesktopCoreOptions = {}): Promise<number> {
  const dataDir = resolveDataDir(opts.dataDir);
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let ws: Workstation | undefined;
  let stopRequested = false;
  let stopped!: () => void;
  const stop = new Promise<void>((resolve) => (stopped = resolve));
  const requestStop = () => {
    stopRequested = true;
    stopped();
  };
  let parentGone = false;
  port.onDisconnect(() => {
    parentGone = true;
    requestStop();
  });
  // Requests may come while the workstation starts: a stop is kept, a setting waits for it.
  const handle = async (request: CoreRequest): Promise<void> => {
    if (request.type === 'stop') return requestStop();
    const started = ws;
    if (!started || stopRequested) return port.post({ type: 'sync-paused', id: request.id, ok: false, message: NOT_APPLIED });
    const ok = await started.setSyncPaused(request.paused).catch(() => undefined);
    await port.post({ type: 'sync-paused', id: request.id, ok: ok === true, ...(ok === true ? {} : { message: ok === false ? NOT_CONFIGURED : NOT_APPLIED }) });
  };
  const early: CoreRequest[] = [];
  port.onMessage((raw) => {
    const request = parseCoreRequest(raw);
    if (!request) return;
    if (!ws && request.type !== 'stop') early.push(request);
    else void handle(request);
  });

  try {
    ws = await startWorkstation({ ...opts.workstation, dataDir, port: 0, host: '127.0.0.1', log });
  } catch (err) {
    const message = startFailureMessage(err, dataDir);
    log(message);
    if (!parentGone) await port.post({ type: 'failed', message });
    return 1;
  }
  let statuses: Subscription | undefined;
  if (!stopRequested) {
    const origin = new URL(ws.baseUrl).origin;
    await port.post({ type: 'ready', baseUrl: origin, workstationId: ws.workstationId, ...(ws.setupUrl ? { setupUrl: ws.setupUrl } : {}) });
    statuses = ws.syncStatus$.subscribe((status) => void port.post({ type: 'sync-status', status }));
    for (const request of early.splice(0)) void handle(request);
  }
  await stop;
  await ws.close();
  statuses?.unsubscribe();
  if (!parentGone) await port.post({ type: 'stopped' });
  return 0;
}
