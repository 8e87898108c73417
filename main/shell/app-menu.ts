/**
 * The application menu as a plain template per platform (main.ts builds it with
 * Menu.buildFromTemplate): Electron's standard roles, so every shortcut is the one the OS's
 * users expect (Cmd on macOS, Ctrl elsewhere), plus About Flint, Help > Documentation and
 * Help > Copy FHIR endpoint address.
 */
import type { MenuItemConstructorOptions } from 'electron';

/** Where Help > Documentation leads: a web page (opened in the system browser) or a local file. */
export type DocumentationTarget = { url: string } | { path: string };

/**
 * package.json's `homepage` when it is an https URL (the external-links opener takes https
 * only); otherwise the first local documentation file that exists (the README shipped with
 * the app, or the repository's when run from a checkout); otherwise none, and the menu item
 * is shown disabled.
 */
export function documentationTarget(
  homepage: unknown,
  localFiles: readonly string[],
  exists: (path: string) => boolean,
): DocumentationTarget | undefined {
  if (typeof homepage === 'string') {
    try {
      if (new URL(homepage).protocol === 'https:') return { url: homepage };
    } catch {
      // Not a URL: fall through to the local files.
    }
  }
  const path = localFiles.find((file) => exists(file));
  return path === undefined ? undefined : { path };
}

export interface AppMenuActions {
  /** Shows the About panel (name, version, copyright). */
  about(): void;
  /** Opens the documentation target. */
  openDocumentation(): void;
  /** Puts `<origin>/fhir` on the clipboard, for a local app or script to use. */
  copyEndpointAddress(): void;
}

export interface AppMenuOptions {
  platform: NodeJS.Platform;
  /** Electron's app.isPackaged: the developer tools are in the menu of a development run only. */
  packaged: boolean;
  /** Undefined: Help > Documentation is disabled. */
  documentation: DocumentationTarget | undefined;
  actions: AppMenuActions;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

export function appMenuTemplate(options: AppMenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const { actions } = options;
  // Windows and Linux underline the letter after & (Alt+letter opens the menu); macOS has no such keys.
  const mnemonic = (label: string): string => (mac ? label.replace('&', '') : label);
  const about: MenuItemConstructorOptions = { id: 'about', label: 'About Flint', click: () => actions.about() };

  const appMenu: MenuItemConstructorOptions = {
    label: 'Flint',
    submenu: [
      about,
      separator,
      { role: 'services' },
      separator,
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      separator,
      { role: 'quit', label: 'Quit Flint' },
    ],
  };
  const file: MenuItemConstructorOptions = {
    label: mnemonic('&File'),
    // Closing the window keeps Flint (and its FHIR endpoint) running in the tray.
    submenu: mac ? [{ role: 'close' }] : [{ role: 'close' }, separator, { role: 'quit', label: 'Quit Flint' }],
  };
  const edit: MenuItemConstructorOptions = {
    label: mnemonic('&Edit'),
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      ...(mac ? [{ role: 'pasteAndMatchStyle' } as const] : []),
      { role: 'delete' },
      separator,
      { role: 'selectAll' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: mnemonic('&View'),
    submenu: [
      { role: 'reload' },
      ...(options.packaged ? [] : [{ role: 'forceReload' } as const, { role: 'toggleDevTools' } as const]),
      separator,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
    ],
  };
  const window: MenuItemConstructorOptions = {
    label: mnemonic('&Window'),
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, separator, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  };
  const help: MenuItemConstructorOptions = {
    // The role gives macOS's Help menu its search field.
    role: 'help',
    label: mnemonic('&Help'),
    submenu: [
      {
        id: 'documentation',
        label: 'Documentation',
        enabled: options.documentation !== undefined,
        click: () => actions.openDocumentation(),
      },
      { id: 'copy-endpoint', label: 'Copy FHIR endpoint address', click: () => actions.copyEndpointAddress() },
      // On macOS About lives in the app menu.
      ...(mac ? [] : [separator, about]),
    ],
  };
  return [...(mac ? [appMenu] : []), file, edit, view, window, help];
}
