import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DesktopSyncState } from '../../shared/desktop-api';
import { MenuDouble, NativeImageDouble, TrayDouble } from '../../test/support/electron-double';
import { TRAY_STATE_LABELS, TRAY_TOOLTIPS } from './tray-state';

// Electron's Tray, Menu and nativeImage cannot exist here: their doubles record what the shell asks.
// The factory runs at the first import of 'electron': tray.ts's, below.
vi.mock('electron', () => ({ Tray: TrayDouble, Menu: MenuDouble, nativeImage: NativeImageDouble }));

const { createTray, trayIconFile } = await import('./tray');

const assets = resolve(import.meta.dirname, '../../assets');
const STATES: DesktopSyncState[] = ['not-configured', 'up-to-date', 'syncing', 'offline', 'paused', 'error', 'conflicts'];

afterEach(() => {
  TrayDouble.all = [];
});

describe('trayIconFile', () => {
  it('tray/tray-<state>.png for every state, and each exists in assets/ with its @2x', () => {
    for (const platform of ['linux', 'win32'] as const) {
      for (const state of STATES) {
        const file = trayIconFile(state, platform, assets, existsSync);
        expect(file).toBe(join(assets, 'tray', `tray-${state}.png`));
        expect(existsSync(file.replace(/\.png$/, '@2x.png'))).toBe(true);
      }
    }
  });

  it('macOS: the template image for the quiet states, the badges for the others', () => {
    expect(trayIconFile('up-to-date', 'darwin', assets, existsSync)).toBe(join(assets, 'tray', 'trayTemplate.png'));
    expect(trayIconFile('not-configured', 'darwin', assets, existsSync)).toBe(join(assets, 'tray', 'trayTemplate.png'));
    expect(trayIconFile('error', 'darwin', assets, existsSync)).toBe(join(assets, 'tray', 'tray-error.png'));
  });

  it('falls back to the app icon when a state’s file is missing', () => {
    const only = (path: string) => path === join(assets, 'tray', 'tray-error.png');
    expect(trayIconFile('error', 'linux', assets, only)).toBe(join(assets, 'tray', 'tray-error.png'));
    expect(trayIconFile('conflicts', 'linux', assets, only)).toBe(join(assets, 'icon.png'));
    expect(trayIconFile('up-to-date', 'darwin', '/nowhere', existsSync)).toBe(join('/nowhere', 'icon.png'));
  });
});

describe('createTray', () => {
  const actions = () => {
    const calls: string[] = [];
    return { calls, open: () => calls.push('open'), setSyncPaused: (p: boolean) => calls.push(`paused=${p}`), quit: () => calls.push('quit') };
  };

  it('appears with the first state and follows every state: icon, tooltip, menu', () => {
    const states = new Subject<DesktopSyncState>();
    const a = actions();
    const tray = createTray({ assetsDir: assets, platform: 'linux', states$: states, actions: a, exists: existsSync });
    expect(TrayDouble.all).toHaveLength(0);
    states.next('syncing');
    expect(TrayDouble.all).toHaveLength(1);
    const shown = TrayDouble.all[0]!;
    expect(shown.images.map((i) => i.path)).toEqual([join(assets, 'tray', 'tray-syncing.png')]);
    expect(shown.tooltip).toBe(TRAY_TOOLTIPS.syncing);
    expect(shown.menu.find((i) => i.id === 'sync-state')?.label).toBe(TRAY_STATE_LABELS.syncing);

    states.next('paused');
    expect(TrayDouble.all).toHaveLength(1); // the same icon, updated
    expect(shown.images.at(-1)?.path).toBe(join(assets, 'tray', 'tray-paused.png'));
    expect(shown.tooltip).toBe(TRAY_TOOLTIPS.paused);
    const resume = shown.menu.find((i) => i.id === 'pause-sync');
    expect(resume?.label).toBe('Resume sync');
    resume?.click?.();
    expect(a.calls).toEqual(['paused=false']);

    tray.destroy();
    expect(shown.destroyed).toBe(true);
    states.next('error'); // no longer followed
    expect(shown.images).toHaveLength(2);
  });

  it('a large fallback icon is scaled down to tray size', () => {
    const states = new Subject<DesktopSyncState>();
    createTray({ assetsDir: assets, platform: 'linux', states$: states, actions: actions(), exists: (p) => p.endsWith('icon.png') });
    states.next('offline');
    const image = TrayDouble.all[0]!.images[0]!;
    expect(image.path).toBe(join(assets, 'icon.png'));
    expect(readFileSync(image.path).readUInt32BE(16)).toBeGreaterThan(32);
    expect(image.getSize()).toEqual({ width: 16, height: 16 });
  });

  it('a click opens Flint on Windows only (macOS and Linux show the menu)', () => {
    for (const platform of ['win32', 'darwin', 'linux'] as const) {
      const states = new Subject<DesktopSyncState>();
      const a = actions();
      createTray({ assetsDir: assets, platform, states$: states, actions: a, exists: existsSync });
      states.next('up-to-date');
      TrayDouble.all.at(-1)!.emit('click');
      expect(a.calls).toEqual(platform === 'win32' ? ['open'] : []);
    }
  });
});
