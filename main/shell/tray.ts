/**
 * The tray icon: Electron glue around tray-state.ts (which state, which words) and
 * tray-menu.ts (the menu). The icon shows the sync state with a badge drawn per state by
 * scripts/make-icons.mjs into assets/tray/ (packed into the app: electron-builder.yml).
 */
import { Menu, nativeImage, Tray } from 'electron';
import { join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { DesktopSyncState } from '../../shared/desktop-api';
import { trayMenuTemplate, type TrayMenuActions } from './tray-menu';
import { TRAY_TOOLTIPS } from './tray-state';

/**
 * The one place that knows the icon files, under the app's assets/ folder:
 * `tray/tray-<state>.png` (Electron picks `tray-<state>@2x.png` beside it on HiDPI screens).
 * On macOS the states with nothing to tell (up to date, sync not set up) use the monochrome
 * `tray/trayTemplate.png`, which the menu bar tints for light and dark mode like its
 * neighbours; the others keep their coloured badge. A missing file falls back to the app
 * icon, `icon.png`.
 */
export function trayIconFile(
  state: DesktopSyncState,
  platform: NodeJS.Platform,
  assetsDir: string,
  exists: (path: string) => boolean,
): string {
  const quiet = state === 'up-to-date' || state === 'not-configured';
  const name = platform === 'darwin' && quiet ? 'trayTemplate.png' : `tray-${state}.png`;
  const file = join(assetsDir, 'tray', name);
  return exists(file) ? file : join(assetsDir, 'icon.png');
}

/** Tray icons are 16 px (logical); the fallback app icon is far larger. */
const TRAY_ICON_SIZE = 16;

export interface TrayOptions {
  /** The app's assets/ folder (join(app.getAppPath(), 'assets')). */
  assetsDir: string;
  platform: NodeJS.Platform;
  /** trayStates(core.syncStatus$): the tray appears with the first state. */
  states$: Observable<DesktopSyncState>;
  actions: TrayMenuActions;
  exists: (path: string) => boolean;
}

export interface FlintTray {
  /** Removes the icon and stops following the states. */
  destroy(): void;
}

/**
 * Shows the tray icon once the first state arrives (the core's sync status stream starts
 * with the current status) and follows every state after: icon, tooltip and menu.
 */
export function createTray(options: TrayOptions): FlintTray {
  let tray: Tray | undefined;
  const show = (state: DesktopSyncState): void => {
    let image = nativeImage.createFromPath(trayIconFile(state, options.platform, options.assetsDir, options.exists));
    if (image.getSize().width > TRAY_ICON_SIZE * 2) image = image.resize({ width: TRAY_ICON_SIZE, height: TRAY_ICON_SIZE });
    if (!tray) {
      tray = new Tray(image);
      // Windows opens an app from its tray icon with a click (the menu is on the right
      // button); macOS and Linux show the menu on a click.
      if (options.platform === 'win32') tray.on('click', () => options.actions.open());
    } else {
      tray.setImage(image);
    }
    tray.setToolTip(TRAY_TOOLTIPS[state]);
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(state, options.actions)));
  };
  const subscription: Subscription = options.states$.subscribe({ next: show });
  return {
    destroy: () => {
      subscription.unsubscribe();
      tray?.destroy();
      tray = undefined;
    },
  };
}
