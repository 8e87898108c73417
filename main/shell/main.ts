/**
 * The desktop app's composition root: a thin Electron shell around the core, which runs in
 * a utility process of its own (core-host.ts, docs/decisions.md). Everything here is wiring;
 * the logic lives in the modules it imports, each tested without Electron (docs/desktop.md).
 *
 *  - one Flint per user: a second launch brings the window forward (single-instance.ts);
 *  - the window remembers its place (window-state.ts) and opens the setup screen directly
 *    on the first run; closing it keeps Flint, its FHIR endpoint and sync running in the
 *    tray (tray.ts), whose "Open Flint" creates it again;
 *  - Quit (menu, tray, Cmd+Q) stops sync and closes the stores (CoreHost.close()) before
 *    the app exits; a core that stops by itself is reported and the app quits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  powerMonitor,
  screen,
  session,
  shell,
  utilityProcess,
  webContents,
} from 'electron';
import { appMenuTemplate, documentationTarget } from './app-menu';
import { type CoreHost, startCoreHost } from './core-host';
import { externalLinkOpener } from './external-links';
import { registerDesktopIpc, sendLock } from './ipc';
import { watchPowerLock } from './power-lock';
import { secureSession, secureWebContents, secureWebPreferences } from './security';
import { createSessionKeeper } from './session-keeper';
import { createSingleWindow } from './single-instance';
import { createTray } from './tray';
import { trayStates } from './tray-state';
import { fitWindowState, keepWindowState, MIN_WINDOW_SIZE, readWindowState, WINDOW_STATE_FILE } from './window-state';

/** Read by preload.ts: sandboxed preloads cannot ask `app` themselves. */
const VERSION_ARG = '--flint-version=';
const log = (line: string): void => console.log(line);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// Every renderer sandboxed, whatever its webPreferences say.
app.enableSandbox();

if (app.requestSingleInstanceLock()) {
  run().catch((err: unknown) => {
    dialog.showErrorBox('Flint could not start', messageOf(err));
    app.exit(1);
  });
} else {
  // Another Flint owns the data directory; it brings its window forward ('second-instance').
  app.quit();
}

async function run(): Promise<void> {
  // Electron's utilityProcess.fork may only be called once the app is ready. The data dir
  // is the core's choice: FLINT_DATA_DIR if set, else the OS default, as for `flint serve`.
  await app.whenReady();
  const starting = startCoreHost(utilityProcess.fork);
  starting.catch(() => undefined); // reported below
  let stopTray = (): void => undefined;

  // Closing the last window keeps the app, its endpoint and sync running in the tray.
  app.on('window-all-closed', () => undefined);
  // Hold the exit until the core has stopped sync and closed its stores, even when the user
  // quits while it is still starting.
  let stopping: Promise<void> | undefined;
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (stopping) return;
    stopping = starting
      .then((core) => core.close(), () => undefined)
      .catch((err: unknown) => console.error('flint: error while stopping:', err))
      .finally(() => {
        stopped = true;
        stopTray();
        app.quit();
      });
  });

  let core: CoreHost;
  try {
    core = await starting;
  } catch (err) {
    dialog.showErrorBox('Flint could not start', messageOf(err));
    app.exit(1);
    return;
  }
  void core.unexpectedExit.then(({ message }) => {
    dialog.showErrorBox('Flint stopped', `${message}\n\nStart Flint again. Everything saved so far is kept.`);
    app.exit(1);
  });

  const origin = new URL(core.baseUrl).origin;
  const assetsDir = join(app.getAppPath(), 'assets');
  const openLink = externalLinkOpener({ appOrigin: origin, openExternal: (url) => shell.openExternal(url), log });
  secureSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => secureWebContents(contents, origin, openLink));

  // The UI's session, kept in memory for this run; locked when the OS locks or sleeps.
  const keeper = createSessionKeeper({
    baseUrl: core.baseUrl,
    notifyLock: (reason) => sendLock(webContents.getAllWebContents(), reason, origin),
    log,
  });
  registerDesktopIpc(ipcMain, {
    appOrigin: origin,
    isAppWindow: (contents) => BrowserWindow.fromWebContents(contents) !== null,
    handlers: {
      resumeSession: () => keeper.resume(),
      keepSession: (kept) => keeper.keep(kept),
      endSession: () => keeper.end(),
      openExternal: (url) => openLink(url, 'ipc'),
    },
    log,
  });
  watchPowerLock(powerMonitor, (reason) => void keeper.lock(reason));

  const windows = createSingleWindow(() => createWindow(core, origin, assetsDir));
  app.on('second-instance', () => windows.reveal());
  app.on('activate', () => windows.reveal()); // macOS: a click on the dock icon

  const documentation = documentationTarget(
    homepageOf(join(app.getAppPath(), 'package.json')),
    [join(process.resourcesPath, 'README.md'), join(app.getAppPath(), 'README.md')],
    existsSync,
  );
  app.setAboutPanelOptions({
    applicationName: 'Flint',
    applicationVersion: app.getVersion(),
    copyright: 'Copyright © 2026 Flint contributors',
    iconPath: join(assetsDir, 'icon.png'),
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate({
        platform: process.platform,
        packaged: app.isPackaged,
        documentation,
        actions: {
          about: () => app.showAboutPanel(),
          openDocumentation: () => {
            if (!documentation) return;
            if ('url' in documentation) openLink(documentation.url, 'menu').catch(() => undefined);
            else void shell.openPath(documentation.path).then((error) => error && log(`flint: the documentation did not open: ${error}`));
          },
          copyEndpointAddress: () => clipboard.writeText(`${origin}/fhir`),
        },
      }),
    ),
  );

  const tray = createTray({
    assetsDir,
    platform: process.platform,
    states$: trayStates(core.syncStatus$),
    exists: existsSync,
    actions: {
      open: () => windows.reveal(),
      setSyncPaused: (paused) => {
        core.setSyncPaused(paused).catch((err: unknown) => log(`flint: sync could not be ${paused ? 'paused' : 'resumed'}: ${messageOf(err)}`));
      },
      quit: () => app.quit(),
    },
  });
  stopTray = () => tray.destroy();

  windows.reveal();
}

/** The one Flint window: where it was last time, on the setup screen until setup is done. */
function createWindow(core: CoreHost, origin: string, assetsDir: string): BrowserWindow {
  const stateFile = join(app.getPath('userData'), WINDOW_STATE_FILE);
  const primary = screen.getPrimaryDisplay();
  const workAreas = [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)].map((d) => d.workArea);
  const state = fitWindowState(readWindowState(stateFile), workAreas);
  const window = new BrowserWindow({
    title: 'Flint',
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    show: false,
    // Windows and macOS take the icon from the executable and the bundle.
    ...(process.platform === 'linux' ? { icon: join(assetsDir, 'icon.png') } : {}),
    webPreferences: secureWebPreferences(fileURLToPath(new URL('./preload.cjs', import.meta.url)), [
      `${VERSION_ARG}${app.getVersion()}`,
    ]),
  });
  keepWindowState(window, stateFile, { onError: (err) => log(`flint: the window's place was not saved: ${messageOf(err)}`) });
  window.once('ready-to-show', () => {
    if (state.maximized) window.maximize();
    window.show();
  });
  void startUrl(core, origin)
    .then((url) => window.loadURL(url))
    .catch((err: unknown) => log(`flint: the window did not load: ${messageOf(err)}`));
  return window;
}

/**
 * The first run opens the setup screen directly (the core made a one-time setup URL); a
 * window opened again later does too while setup is still needed, and the UI at / otherwise.
 */
async function startUrl(core: CoreHost, origin: string): Promise<string> {
  if (core.setupUrl === undefined) return `${origin}/`;
  try {
    const res = await fetch(`${origin}/flint/setup`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { needed?: unknown };
    return body.needed === false ? `${origin}/` : core.setupUrl;
  } catch {
    return core.setupUrl;
  }
}

/** package.json's `homepage`, if any (Help > Documentation). */
function homepageOf(packageJson: string): unknown {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { homepage?: unknown }).homepage;
  } catch {
    return undefined;
  }
}
