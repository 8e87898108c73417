/**
 * The core's side of the channel to the desktop shell, whichever way it was started:
 *   - by Electron's utilityProcess.fork: `process.parentPort`, whose messages arrive as
 *     `{ data }` events;
 *   - by Node's child_process.fork (tests, benchmarks): `process.send` and
 *     `process.on('message')`, with 'disconnect' when the parent goes away.
 * So the same entry runs, and is tested, in plain Node.
 */
import type { CoreEvent } from './core-messages';

export interface ParentPort {
  /** Resolves once the message has been handed to the channel. */
  post(event: CoreEvent): Promise<void>;
  onMessage(listener: (message: unknown) => void): void;
  /** The parent is gone (Node IPC only: Electron ends a utility process with its app). */
  onDisconnect(listener: () => void): void;
}

interface ElectronParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

/** How long a message posted on Electron's parent port is given to leave before an exit. */
const ELECTRON_POST_GRACE_MS = 50;

/** The channel to the parent, or undefined when this process has none (started by hand). */
export function parentPortOf(proc: NodeJS.Process = process): ParentPort | undefined {
  const electron = (proc as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electron) {
    return {
      post(event) {
        electron.postMessage(event);
        // postMessage has no completion callback: a short grace before anyone exits.
        return new Promise((resolve) => setTimeout(resolve, ELECTRON_POST_GRACE_MS));
      },
      onMessage: (listener) => void electron.on('message', (e) => listener(e.data)),
      onDisconnect: () => undefined,
    };
  }
  if (typeof proc.send !== 'function' || !proc.connected) return undefined;
  return {
    post: (event) =>
      new Promise((resolve) => {
        if (!proc.connected || !proc.send) return resolve();
        // The callback also runs with an error when the channel closed meanwhile: nothing to do.
        proc.send(event, undefined, {}, () => resolve());
      }),
    onMessage: (listener) => void proc.on('message', listener),
    onDisconnect: (listener) => void proc.once('disconnect', listener),
  };
}
