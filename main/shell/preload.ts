/**
 * Sandboxed preload: the only bridge between the UI and the desktop. It exposes the named
 * functions of shared/desktop-api.ts on `window.flint` (preload-api.ts builds them), never
 * a generic invoke(channel) or ipcRenderer itself (model: VS Code's sandbox preload).
 * Everything clinical goes through the core's HTTP API, so the bridge stays small; a new
 * function needs its channel in DESKTOP_CHANNELS and a checked handler in ipc.ts.
 *
 * Bundled to CJS (scripts/build.mjs): import only electron, shared/ and preload-api.ts.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createDesktopApi } from './preload-api';

/** Keep in step with VERSION_ARG in main.ts, which passes it as a renderer argument. */
const VERSION_ARG = '--flint-version=';
const version =
  process.argv.find((arg) => arg.startsWith(VERSION_ARG))?.slice(VERSION_ARG.length) ?? 'unknown';

contextBridge.exposeInMainWorld('flint', createDesktopApi(ipcRenderer, version));
