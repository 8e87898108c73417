/**
 * The tray icon's menu as a plain template (Electron's Menu.buildFromTemplate takes it in
 * tray.ts): Open Flint, Pause or Resume sync, the sync state as a line of text, Quit Flint.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { DesktopSyncState } from '../../shared/desktop-api';
import { TRAY_STATE_LABELS } from './tray-state';

export interface TrayMenuActions {
  /** Shows the window, creating it again when it was closed. */
  open(): void;
  /** Pauses (true) or resumes (false) sync. */
  setSyncPaused(paused: boolean): void;
  /** Quits the app: sync stops and the stores close first (main.ts). */
  quit(): void;
}

export function trayMenuTemplate(state: DesktopSyncState, actions: TrayMenuActions): MenuItemConstructorOptions[] {
  const paused = state === 'paused';
  return [
    { id: 'open', label: 'Open Flint', click: () => actions.open() },
    { type: 'separator' },
    { id: 'sync-state', label: TRAY_STATE_LABELS[state], enabled: false },
    {
      id: 'pause-sync',
      label: paused ? 'Resume sync' : 'Pause sync',
      // Nothing to pause or resume before sync is set up.
      enabled: state !== 'not-configured',
      click: () => actions.setSyncPaused(!paused),
    },
    { type: 'separator' },
    // Not role 'quit': the same path as every other quit (app.quit and main.ts's hold).
    { id: 'quit', label: 'Quit Flint', click: () => actions.quit() },
  ];
}
