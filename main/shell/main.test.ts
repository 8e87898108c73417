/**
 * main.ts's wiring, run for real except Electron itself: a double of the Electron module
 * (below) records windows, menus and the tray and plays the app's lifecycle events as
 * Electron documents them, while the core is the real one (dist/desktop-core.js, built by
 * `node scripts/build.mjs`), forked with Node's child_process.fork in place of Electron's
 * utilityProcess.fork, on a temp data dir and the real keychain (scripts/with-keyring.sh).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IpcMainDouble, MenuDouble, NativeImageDouble, PowerMonitorDouble, SessionDouble, TrayDouble, type MenuItemDouble } from '../../test/support/electron-double';
import { forgetDataDir } from '../../test/support/keychain';
import { until } from '../../test/support/until';
import { tempDataDir } from '../../test/support/workstation';

const REPO = resolve(import.meta.dirname, '../..');
const userDataDirs: string[] = [];

const allItems = (items: MenuItemDouble[]): MenuItemDouble[] => items.flatMap((i) => [i, ...allItems(i.submenu ?? [])]);

/** A BrowserWindow: its options, the URL it loaded, the calls made on it, its events. */
class WindowDouble extends EventEmitter {
  static all: WindowDouble[] = [];
  readonly calls: string[] = [];
  readonly loaded: string[] = [];
  readonly webContents = { id: WindowDouble.all.length + 1 };
  destroyed = false;
  constructor(readonly options: { width: number; height: number; x?: number; y?: number }) {
    super();
    WindowDouble.all.push(this);
  }
  static fromWebContents(contents: unknown): WindowDouble | null {
    return WindowDouble.all.find((w) => w.webContents === contents && !w.destroyed) ?? null;
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.emit('ready-to-show');
  }
  isDestroyed = () => this.destroyed;
  isMinimized = () => false;
  isMaximized = () => false;
  isFullScreen = () => false;
  getNormalBounds = () => ({ x: this.options.x ?? 100, y: this.options.y ?? 80, width: this.options.width, height: this.options.height });
  restore = () => void this.calls.push('restore');
  show = () => void this.calls.push('show');
  focus = () => void this.calls.push('focus');
  maximize = () => void this.calls.push('maximize');
  /** What a click on the window's close button does. */
  close(): void {
    if (this.destroyed) return;
    this.emit('close');
    this.destroyed = true;
    this.emit('closed');
    if (WindowDouble.all.every((w) => w.destroyed) && !app.quitting) app.emit('window-all-closed');
  }
}

/** Electron's app: quit() closes the windows, then asks 'will-quit', which may hold it. */
class AppDouble extends EventEmitter {
  quitting = false;
  exited: number | undefined;
  readonly done: Promise<number>;
  private finish: (code: number) => void = () => undefined;
  readonly userData = mkdtempSync(join(tmpdir(), 'flint-user-data-'));
  constructor() {
    super();
    this.done = new Promise((r) => (this.finish = r));
    userDataDirs.push(this.userData);
  }
  aboutShown = 0;
  enableSandbox() {}
  requestSingleInstanceLock = () => true;
  ready = false;
  /** Ready a little later, as in Electron: what needs a ready app must wait for it. */
  whenReady = () =>
    new Promise<void>((r) =>
      setTimeout(() => {
        this.ready = true;
        r();
      }, 10),
    );
  getAppPath = () => REPO;
  getPath = (name: string) => (name === 'userData' ? this.userData : tmpdir());
  getVersion = () => '0.1.0';
  isPackaged = false;
  setAboutPanelOptions() {}
  showAboutPanel = () => void this.aboutShown++;
  quit(): void {
    if (this.exited !== undefined) return;
    this.quitting = true;
    this.emit('before-quit');
    for (const w of WindowDouble.all) w.close();
    let held = false;
    this.emit('will-quit', { preventDefault: () => (held = true) });
    if (held) this.quitting = false;
    else this.exit(0);
  }
  exit(code: number): void {
    this.exited ??= code;
    this.finish(code);
  }
}

let app = new AppDouble();
const children: ChildProcess[] = [];
const recorded = { clipboard: [] as string[], errors: [] as string[][], menu: [] as MenuItemDouble[] };
const electron = {
  app,
  BrowserWindow: WindowDouble,
  Tray: TrayDouble,
  Menu: { ...MenuDouble, setApplicationMenu: (m: { template: MenuItemDouble[] }) => void (recorded.menu = m.template) },
  nativeImage: NativeImageDouble,
  clipboard: { writeText: (text: string) => void recorded.clipboard.push(text) },
  dialog: { showErrorBox: (title: string, text: string) => void recorded.errors.push([title, text]) },
  ipcMain: new IpcMainDouble(),
  powerMonitor: new PowerMonitorDouble(),
  screen: {
    getPrimaryDisplay: () => ({ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 } }),
    getAllDisplays: () => [{ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 } }],
  },
  session: { defaultSession: new SessionDouble() },
  shell: { openExternal: async () => undefined, openPath: async () => '' },
  webContents: { getAllWebContents: () => [] },
  // Node's fork has the shape core-host.ts needs of a utility process.
  utilityProcess: {
    fork: (modulePath: string, args: string[]) => {
      // Electron refuses a utility process before the app's ready event.
      if (!app.ready) throw new Error('utilityProcess.fork() called before the app is ready');
      const child = fork(modulePath, args, { stdio: 'pipe', execArgv: [] });
      child.stdout?.resume();
      child.stderr?.resume();
      children.push(child);
      return child;
    },
  },
};
vi.mock('electron', () => electron);

const dataDir = tempDataDir('flint-shell-main-');
const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist', 'desktop-core.js'))) throw new Error('dist/desktop-core.js is missing: run `node scripts/build.mjs`');
  process.env.FLINT_DATA_DIR = dataDir;
  // Electron sets it in its main process: the packaged app's resources folder.
  Object.assign(process, { resourcesPath: join(app.userData, 'resources') });
  await import('./main');
});

afterAll(async () => {
  for (const dir of userDataDirs) rmSync(dir, { recursive: true, force: true });
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await forgetDataDir(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('main.ts, with the real core and Electron doubled', () => {
  let origin = '';

  it('first run: one window, on the setup screen directly, and the FHIR endpoint answers', async () => {
    const window = await until('the first window to load', () => (WindowDouble.all[0]?.loaded[0] ? WindowDouble.all[0] : undefined));
    expect(window.loaded[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/setup#token=[\w-]+$/);
    expect(window.calls).toContain('show');
    origin = new URL(window.loaded[0]!).origin;
    const metadata = await fetch(`${origin}/fhir/metadata`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
    // The bridge's handlers are registered.
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(['flint:end-session', 'flint:keep-session', 'flint:open-external', 'flint:resume-session']);
  });

  it('the application menu: Copy FHIR endpoint address and About', () => {
    const items = allItems(recorded.menu);
    items.find((i) => i.id === 'copy-endpoint')?.click?.();
    expect(recorded.clipboard).toEqual([`${origin}/fhir`]);
    items.find((i) => i.id === 'about')?.click?.();
    expect(app.aboutShown).toBe(1);
    expect(items.some((i) => i.role === 'toggleDevTools')).toBe(true); // not packaged
    expect(items.find((i) => i.id === 'documentation')?.enabled).toBe(true); // the repository's README
  });

  it('the tray shows the sync state (not set up on a new workstation)', async () => {
    const tray = await until('the tray', () => TrayDouble.all[0]);
    expect(tray.image).toBe(join(REPO, 'assets', 'tray', process.platform === 'darwin' ? 'trayTemplate.png' : 'tray-not-configured.png'));
    expect(tray.tooltip).toMatch(/sync is not set up/);
    expect(tray.menu.find((i) => i.id === 'pause-sync')?.enabled).toBe(false);
  });

  it('closing the window keeps the app and the endpoint; its place is saved; Open Flint creates it again', async () => {
    const first = WindowDouble.all[0]!;
    first.close();
    expect(app.exited).toBeUndefined();
    expect((await fetch(`${origin}/fhir/metadata`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(app.userData, 'window-state.json'), 'utf8'))).toMatchObject({ width: 1280, height: 832, maximized: false });

    TrayDouble.all[0]!.menu.find((i) => i.id === 'open')?.click?.();
    const second = await until('a second window to load', () => (WindowDouble.all[1]?.loaded[0] ? WindowDouble.all[1] : undefined));
    // Setup is still needed: the setup screen again. Where the first one was.
    expect(second.loaded[0]).toBe(first.loaded[0]);
    expect(second.options).toMatchObject({ x: 100, y: 80, width: 1280, height: 832 });

    // A second launch brings it forward instead of making a third.
    app.emit('second-instance');
    expect(WindowDouble.all).toHaveLength(2);
    expect(second.calls.slice(-2)).toEqual(['show', 'focus']);
  });

  it('Quit Flint in the tray holds the exit until the core has stopped, then exits', async () => {
    const core = children[0]!;
    expect(core.exitCode).toBeNull();
    TrayDouble.all[0]!.menu.find((i) => i.id === 'quit')?.click?.();
    // Held: the windows are closed, the core is stopping.
    expect(app.exited).toBeUndefined();
    expect(WindowDouble.all.every((w) => w.destroyed)).toBe(true);
    expect(await app.done).toBe(0);
    // The core process had stopped before the app exited; its port is closed.
    expect(core.exitCode).toBe(0);
    expect(gone(core.pid!)).toBe(true);
    await expect(fetch(`${origin}/fhir/metadata`)).rejects.toThrow();
    expect(TrayDouble.all[0]!.destroyed).toBe(true);
    expect(recorded.errors).toEqual([]);
  });
});

describe('main.ts when the core stops by itself', () => {
  it('an error box says so and the app exits with 1', async () => {
    // A fresh start of main.ts, with fresh doubles, on the same data dir.
    app = new AppDouble();
    electron.app = app;
    WindowDouble.all = [];
    TrayDouble.all = [];
    electron.ipcMain = new IpcMainDouble();
    recorded.errors = [];
    vi.resetModules();
    await import('./main');
    await until('the window to load', () => WindowDouble.all[0]?.loaded[0]);
    const core = children.at(-1)!;
    expect(children).toHaveLength(2);
    core.kill('SIGKILL');
    expect(await app.done).toBe(1);
    expect(recorded.errors).toHaveLength(1);
    expect(recorded.errors[0]![0]).toBe('Flint stopped');
    expect(recorded.errors[0]![1]).toMatch(/stopped unexpectedly/);
  });
});
