/**
 * Electron hardening, in one place. The window shows pages served by the core's loopback
 * listener and nothing else: no other origins, no new windows, no webviews, no
 * permissions (camera, notifications, clipboard reads, ...); links elsewhere go to the
 * system browser after external-links.ts's check. Model: Actual Budget's
 * desktop-electron/security.ts, plus a CSP set from the session so that it holds
 * whatever the served pages say.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { UI_CONTENT_SECURITY_POLICY } from '../core/http/ui-static';
import type { LinkSource, OpenExternalLink } from './external-links';

/** Everything from the app's own origin; no inline script, no eval, no frames. The core
 * sends the same policy with every UI file; the session sets it too, whatever a page says. */
export const CONTENT_SECURITY_POLICY = UI_CONTENT_SECURITY_POLICY;

/** The webPreferences every Flint window uses; the preload path is the only variable. */
export function secureWebPreferences(
  preload: string,
  additionalArguments: string[],
): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload,
    additionalArguments,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    // Offline first: Chromium would otherwise try to download dictionaries.
    spellcheck: false,
  };
}

/** True when `url` belongs to the app's origin, e.g. http://127.0.0.1:49152. */
export function isAppUrl(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/**
 * The parts of Electron's Session that secureSession sets (a Session is one); narrow so that
 * the handlers can be tested without Electron.
 */
export interface SecurableSession {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[] | string> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
}

/** CSP on every response, and every permission request or check refused. */
export function secureSession(session: SecurableSession): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

/** What the navigation handlers read of Electron's navigation events. */
export interface NavigationEvent {
  url: string;
  /** Set on will-frame-navigate; a main-frame link may open in the system browser. */
  isMainFrame?: boolean;
  preventDefault(): void;
}

/** The parts of Electron's WebContents that secureWebContents sets (a WebContents is one). */
export interface SecurableContents {
  on(event: 'will-attach-webview' | 'will-frame-navigate' | 'will-redirect', listener: (event: NavigationEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * For every web contents ever created: no webviews, no new windows, and navigation only
 * within the app's origin (a page of the core may redirect to another, e.g. a login
 * page). A link elsewhere, from window.open (target=_blank) or a navigation of the main
 * frame, is handed to `openLink` (external-links.ts: https only, to the system browser) and
 * never opens in the app; without `openLink` it is simply refused. Redirects and subframe
 * navigations elsewhere are refused without opening anything: the user did not click them.
 */
export function secureWebContents(contents: SecurableContents, origin: string, openLink?: OpenExternalLink): void {
  const handOut = (url: string, source: LinkSource) => {
    // openLink logs refusals itself; the page learns nothing either way.
    if (openLink) openLink(url, source).catch(() => undefined);
  };
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (!isAppUrl(url, origin)) handOut(url, 'window-open');
    return { action: 'deny' };
  });
  contents.on('will-frame-navigate', (event) => {
    if (isAppUrl(event.url, origin)) return;
    event.preventDefault();
    if (event.isMainFrame === true) handOut(event.url, 'navigation');
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url, origin)) event.preventDefault();
  });
}
