/**
 * Electron hardening, in one place. The window shows pages served by the core's loopback
 * listener and nothing else: no other origins, no new windows, no webviews, no
 * permissions (camera, notifications, clipboard reads, ...). Model: Actual Budget's
 * desktop-electron/security.ts, plus a CSP set from the session so that it holds
 * whatever the served pages say.
 */
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { UI_CONTENT_SECURITY_POLICY } from '../core/http/ui-static';

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

/** CSP on every response, and every permission request or check refused. */
export function secureSession(session: Session): void {
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

/**
 * For every web contents ever created: no webviews, no new windows, and navigation only
 * within the app's origin (a page of the core may redirect to another, e.g. a login
 * page). Links elsewhere are simply refused, not handed to the system browser.
 */
export function secureWebContents(contents: WebContents, origin: string): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url, origin)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url, origin)) event.preventDefault();
  });
}
