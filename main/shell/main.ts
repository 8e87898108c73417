/**
 * The desktop app: a thin Electron shell around the plain-Node core. It starts the same
 * workstation that `flint serve` starts (on a free loopback port), shows the UI that the
 * core serves in one locked-down window, and stops the core before the app exits.
 * Everything else lives in main/core and is tested without Electron.
 */
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, session } from 'electron';
import { startWorkstation } from '../core/app';
import { resolveDataDir } from '../core/config';
import { secureSession, secureWebContents, secureWebPreferences } from './security';

type Workstation = Awaited<ReturnType<typeof startWorkstation>>;

/** Read by preload.ts: sandboxed preloads cannot ask `app` themselves. */
const VERSION_ARG = '--flint-version=';

// Every renderer sandboxed, whatever its webPreferences say.
app.enableSandbox();

if (app.requestSingleInstanceLock()) {
  void run();
} else {
  // Another Flint owns the data directory; it gets focused via 'second-instance'.
  app.quit();
}

async function run(): Promise<void> {
  let window: BrowserWindow | undefined;

  // Start the core while Electron gets ready; neither waits for the other.
  const starting = startWorkstation({
    // FLINT_DATA_DIR if set, else the OS default: the same rule as `flint serve`.
    dataDir: resolveDataDir(undefined),
    port: 0,
    log: (line) => console.log(line),
  });
  starting.catch(() => undefined); // reported below, once Electron is ready

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());
  // Hold the exit until the core has closed its listener and store, even when the
  // user quits while it is still starting.
  let stopping: Promise<void> | undefined;
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (stopping) return;
    stopping = starting
      .then((running) => running.close(), () => undefined)
      .catch((err: unknown) => console.error('flint: error while stopping:', err))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });

  await app.whenReady();
  let workstation: Workstation;
  try {
    workstation = await starting;
  } catch (err) {
    dialog.showErrorBox('Flint could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }

  const origin = new URL(workstation.baseUrl).origin;
  secureSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => secureWebContents(contents, origin));

  window = new BrowserWindow({
    title: 'Flint',
    width: 1280,
    height: 832,
    minWidth: 800,
    minHeight: 600,
    show: false,
    webPreferences: secureWebPreferences(
      fileURLToPath(new URL('./preload.cjs', import.meta.url)),
      [`${VERSION_ARG}${app.getVersion()}`],
    ),
  });
  const shown = window;
  shown.once('ready-to-show', () => shown.show());
  shown.on('closed', () => {
    window = undefined;
  });
  // The core serves the UI at the root of its origin; the FHIR API is under /fhir.
  await shown.loadURL(`${origin}/`);
}
