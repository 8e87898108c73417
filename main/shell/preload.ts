/**
 * Sandboxed preload: the only bridge between the UI and the desktop. It exposes named
 * functions on `window.flint`, never a generic invoke(channel) or ipcRenderer itself
 * (model: VS Code's sandbox preload). Everything clinical goes through the core's HTTP
 * API, so the bridge stays small; add a function here only with a handler in main.ts
 * that checks the sender.
 */
import { contextBridge } from 'electron';

/** Keep in step with VERSION_ARG in main.ts, which passes it as a renderer argument. */
const VERSION_ARG = '--flint-version=';
const version =
  process.argv.find((arg) => arg.startsWith(VERSION_ARG))?.slice(VERSION_ARG.length) ?? 'unknown';

const api = Object.freeze({
  /** The desktop app's version, e.g. "0.1.0". */
  version: (): string => version,
});

/** The shape of `window.flint` in the desktop app; it is absent in a plain browser. */
export type FlintDesktopApi = typeof api;

contextBridge.exposeInMainWorld('flint', api);
