import type { Session, WebContents } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { SessionDouble, ShellDouble, WebContentsDouble } from '../../test/support/electron-double';
import { externalLinkOpener } from './external-links';
import { CONTENT_SECURITY_POLICY, isAppUrl, secureSession, secureWebContents, secureWebPreferences, type SecurableContents, type SecurableSession } from './security';

// Electron's own objects fit the narrow shapes (checked by tsc).
export const electronFits = (s: Session, c: WebContents): [SecurableSession, SecurableContents] => [s, c];

const ORIGIN = 'http://127.0.0.1:49152';
/** Lets the promise of a hand-out to the system browser settle. */
const settle = () => new Promise((r) => setImmediate(r));

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the renderer, with no Node, webviews or insecure content', () => {
    expect(secureWebPreferences('/app/preload.cjs', ['--flint-version=1'])).toEqual({
      preload: '/app/preload.cjs',
      additionalArguments: ['--flint-version=1'],
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    });
  });
});

describe('isAppUrl', () => {
  it('is true for the exact origin only', () => {
    expect(isAppUrl(`${ORIGIN}/fhir/Patient?x=1`, ORIGIN)).toBe(true);
    expect(isAppUrl('http://127.0.0.1:49153/', ORIGIN)).toBe(false);
    expect(isAppUrl('http://localhost:49152/', ORIGIN)).toBe(false);
    expect(isAppUrl('https://127.0.0.1:49152/', ORIGIN)).toBe(false);
    expect(isAppUrl('not a url', ORIGIN)).toBe(false);
  });
});

describe('secureSession', () => {
  it("replaces any page's CSP with the app's and refuses every permission", () => {
    const s = new SessionDouble();
    secureSession(s);
    const headers = s.respond({ 'content-type': ['text/html'], 'Content-Security-Policy': ["default-src *; script-src 'unsafe-inline'"] });
    expect(headers).toEqual({ 'content-type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(CONTENT_SECURITY_POLICY).toContain("frame-src 'none'");
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) expect(s.requestPermission(p), p).toBe(false);
    expect(s.permissionCheck?.()).toBe(false);
    expect(s.devicePermission?.()).toBe(false);
  });
});

describe('secureWebContents', () => {
  let contents: WebContentsDouble;
  let shell: ShellDouble;
  let logs: string[];

  beforeEach(() => {
    contents = new WebContentsDouble(`${ORIGIN}/`);
    shell = new ShellDouble();
    logs = [];
    secureWebContents(contents, ORIGIN, externalLinkOpener({ appOrigin: ORIGIN, openExternal: shell.openExternal, log: (l) => logs.push(l) }));
  });

  it('refuses webviews', () => {
    expect(contents.navigate('will-attach-webview', 'https://example.org/')).toBe(true);
  });

  it('navigation within the origin goes ahead, in the app', async () => {
    expect(contents.navigate('will-frame-navigate', `${ORIGIN}/record/Patient/p1`)).toBe(false);
    expect(contents.navigate('will-redirect', `${ORIGIN}/auth/authorize?x=1`)).toBe(false);
    await settle();
    expect(shell.opened).toEqual([]);
  });

  it('window.open: always denied in the app; an https link elsewhere opens in the system browser', async () => {
    expect(contents.openWindow('https://hl7.org/fhir/R4/')).toBe('deny');
    expect(contents.openWindow(`${ORIGIN}/other-window`)).toBe('deny');
    await settle();
    expect(shell.opened).toEqual(['https://hl7.org/fhir/R4/']);
    expect(logs).toEqual([]);
  });

  it('a main-frame navigation to another https site is stopped and opens in the system browser', async () => {
    expect(contents.navigate('will-frame-navigate', 'https://example.org/help')).toBe(true);
    await settle();
    expect(shell.opened).toEqual(['https://example.org/help']);
  });

  const refused = [
    'http://example.org/Patient?name=Smith',
    'file:///home/Smith.pdf',
    'javascript:alert("Smith")',
    'data:text/html,<p>Smith</p>',
    'ms-msdt:/id PCWDiagnostic /param Smith',
    'https://user:Smith@example.org/',
  ];
  for (const url of refused) {
    it(`refuses ${url.slice(0, url.indexOf(':') + 1)} links${url.includes('@') ? ' with credentials' : ''}, logged without path or query`, async () => {
      expect(contents.openWindow(url)).toBe('deny');
      expect(contents.navigate('will-frame-navigate', url)).toBe(true);
      await settle();
      expect(shell.opened).toEqual([]);
      expect(logs).toHaveLength(2);
      expect(logs[0]).toMatch(/^flint: refused a link \(window-open\) to /);
      expect(logs[1]).toMatch(/^flint: refused a link \(navigation\) to /);
      for (const line of logs) expect(line).not.toContain('Smith');
    });
  }

  it('a subframe navigation or a redirect elsewhere is stopped without opening anything', async () => {
    expect(contents.navigate('will-frame-navigate', 'https://example.org/frame', false)).toBe(true);
    expect(contents.navigate('will-redirect', 'https://example.org/redirected')).toBe(true);
    await settle();
    expect(shell.opened).toEqual([]);
  });

  it('without an opener, links elsewhere are simply refused', async () => {
    const bare = new WebContentsDouble(`${ORIGIN}/`);
    secureWebContents(bare, ORIGIN);
    expect(bare.openWindow('https://example.org/')).toBe('deny');
    expect(bare.navigate('will-frame-navigate', 'https://example.org/')).toBe(true);
    expect(bare.navigate('will-frame-navigate', `${ORIGIN}/x`)).toBe(false);
    await settle();
    expect(shell.opened).toEqual([]);
  });
});
