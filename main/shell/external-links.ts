/**
 * Links that leave the app. The window shows the core's pages and nothing else; a link to
 * another site (window.open, target=_blank, a navigation of the main frame, or the UI's
 * `window.flint.openExternal`) opens in the system browser when it is https:// and stays out
 * of the window in every case. Every other scheme (http:, file:, javascript:, data:, custom
 * protocols that would start another program) is refused and logged without its path, query
 * or fragment, which may carry patient data.
 */

/** Longer URLs are refused: nothing Flint links to needs more, and a browser's command line has limits. */
export const MAX_EXTERNAL_URL_LENGTH = 2048;

/** Where a link came from, for the log: the page (window.open, a navigation, window.flint) or the app's own menu. */
export type LinkSource = 'window-open' | 'navigation' | 'ipc' | 'menu';

export type ExternalUrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Whether `url` may open in the system browser: a string of at most MAX_EXTERNAL_URL_LENGTH
 * characters, an absolute https:// URL with a host, no user name or password in it, not on
 * the app's own origin. The URL handed on is the parsed, normalized one (`href`).
 * The reason of a refusal never quotes the URL.
 */
export function checkExternalUrl(url: unknown, appOrigin: string): ExternalUrlVerdict {
  if (typeof url !== 'string') return { ok: false, reason: 'the URL is not a string' };
  if (url.length === 0 || url.length > MAX_EXTERNAL_URL_LENGTH) return { ok: false, reason: `the URL is empty or longer than ${MAX_EXTERNAL_URL_LENGTH} characters` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the URL is not an absolute URL' };
  }
  if (parsed.protocol !== 'https:') return { ok: false, reason: 'only https:// links open in the browser' };
  if (parsed.hostname === '') return { ok: false, reason: 'the URL has no host' };
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'the URL carries a user name or password' };
  if (parsed.origin === appOrigin) return { ok: false, reason: "the URL is on the app's own origin" };
  return { ok: true, url: parsed.href };
}

/**
 * What a log may say about a URL: its scheme and host (`https://example.org`, `javascript:`),
 * never its path, query, fragment or credentials.
 */
export function urlForLog(url: unknown): string {
  if (typeof url !== 'string') return `(a ${typeof url})`;
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : u.protocol;
  } catch {
    return '(not a URL)';
  }
}

export interface ExternalLinkOptions {
  /** The core's origin, e.g. http://127.0.0.1:49152 (its links stay in the app). */
  appOrigin: string;
  /** Electron's `shell.openExternal`. */
  openExternal(url: string): Promise<void>;
  /** One line per refused or failed link, without arguments beyond urlForLog(). */
  log(line: string): void;
}

/** Rejects with a message that never quotes the URL. */
export type OpenExternalLink = (url: unknown, source: LinkSource) => Promise<void>;

/**
 * The one way a URL leaves the app: checked by checkExternalUrl, then handed to the system
 * browser. Refused and failed links are logged (scheme and host only) and reject.
 */
export function externalLinkOpener(options: ExternalLinkOptions): OpenExternalLink {
  return async function openExternalLink(url, source) {
    const verdict = checkExternalUrl(url, options.appOrigin);
    if (!verdict.ok) {
      options.log(`flint: refused a link (${source}) to ${urlForLog(url)}: ${verdict.reason}`);
      throw new Error(`The link was not opened: ${verdict.reason}.`);
    }
    try {
      await options.openExternal(verdict.url);
    } catch (err) {
      options.log(`flint: the system browser did not open a link (${source}) to ${urlForLog(url)}: ${err instanceof Error ? err.name : typeof err}`);
      throw new Error('The link could not be opened in the system browser.');
    }
  };
}
