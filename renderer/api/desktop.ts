/**
 * The desktop bridge as the UI sees it: `window.flint`, which the Electron preload exposes
 * (the contract is shared/desktop-api.ts), or undefined in a plain browser (`flint serve`),
 * where the UI works without it. A `window.flint` that lacks any function of the contract
 * (a preload older than the UI) counts as absent too, so the UI never calls half a bridge.
 */
import type { FlintDesktopApi } from '../../shared/desktop-api';

// A record, not a list: the compiler fails here when the contract gains a function.
const FUNCTIONS: Record<keyof FlintDesktopApi, true> = {
  version: true,
  resumeSession: true,
  keepSession: true,
  endSession: true,
  onLock: true,
  openExternal: true,
};

/** `window.flint` when the page runs in the desktop app; `from` is the window (tests pass a stand-in). */
export function desktopApi(from: object = window): FlintDesktopApi | undefined {
  const api: unknown = (from as { flint?: unknown }).flint;
  if (typeof api !== 'object' || api === null) return undefined;
  const complete = Object.keys(FUNCTIONS).every((name) => typeof (api as Record<string, unknown>)[name] === 'function');
  return complete ? (api as FlintDesktopApi) : undefined;
}
