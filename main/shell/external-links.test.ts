import { describe, expect, it } from 'vitest';
import { ShellDouble } from '../../test/support/electron-double';
import { checkExternalUrl, externalLinkOpener, MAX_EXTERNAL_URL_LENGTH, urlForLog } from './external-links';

const ORIGIN = 'http://127.0.0.1:49152';

describe('checkExternalUrl', () => {
  it('takes https:// URLs of other sites, normalized', () => {
    expect(checkExternalUrl('https://hl7.org/fhir/R4/', ORIGIN)).toEqual({ ok: true, url: 'https://hl7.org/fhir/R4/' });
    expect(checkExternalUrl('HTTPS://Docs.Example.ORG:443/a/./b?q=1#f', ORIGIN)).toEqual({ ok: true, url: 'https://docs.example.org/a/b?q=1#f' });
    expect(checkExternalUrl('https://127.0.0.1:8443/', ORIGIN)).toEqual({ ok: true, url: 'https://127.0.0.1:8443/' });
  });

  const refused: [string, unknown, RegExp][] = [
    ['http:', 'http://example.org/', /only https/],
    ['file:', 'file:///C:/Users/x/notes.pdf', /only https/],
    ['javascript:', 'javascript:alert(document.cookie)', /only https/],
    ['data:', 'data:text/html;base64,PGI+eDwvYj4=', /only https/],
    ['blob:', 'blob:https://example.org/1234', /only https/],
    ['a custom protocol', 'vscode://file/etc/passwd', /only https/],
    ['mailto:', 'mailto:someone@example.org', /only https/],
    ['the app origin', `${ORIGIN}/record`, /only https/],
    ['credentials', 'https://u:p@example.org/', /user name or password/],
    ['a user name only', 'https://u@example.org/', /user name or password/],
    ['a relative URL', '/fhir/Patient', /not an absolute URL/],
    ['a bare word', 'example.org', /not an absolute URL/],
    ['an empty string', '', /empty/],
    ['too long', `https://example.org/${'a'.repeat(MAX_EXTERNAL_URL_LENGTH)}`, /longer than 2048/],
    ['a number', 42, /not a string/],
    ['an object', { href: 'https://example.org/' }, /not a string/],
  ];
  for (const [name, url, reason] of refused) {
    it(`refuses ${name}`, () => {
      const v = checkExternalUrl(url, ORIGIN);
      expect(v.ok).toBe(false);
      if (!v.ok) {
        expect(v.reason).toMatch(reason);
        if (typeof url === 'string' && url) expect(v.reason).not.toContain(url);
      }
    });
  }

  it("refuses the app's origin even if it were https", () => {
    expect(checkExternalUrl('https://flint.local:9000/x', 'https://flint.local:9000')).toEqual({ ok: false, reason: "the URL is on the app's own origin" });
  });

  it('takes the longest URL allowed', () => {
    const url = `https://example.org/${'a'.repeat(MAX_EXTERNAL_URL_LENGTH - 'https://example.org/'.length)}`;
    expect(url).toHaveLength(MAX_EXTERNAL_URL_LENGTH);
    expect(checkExternalUrl(url, ORIGIN).ok).toBe(true);
  });
});

describe('urlForLog', () => {
  it('keeps the scheme and host, never the path, query, fragment or credentials', () => {
    expect(urlForLog('https://u:secret@example.org:8443/Patient/Smith?name=Smith#x')).toBe('https://example.org:8443');
    expect(urlForLog('javascript:alert("Smith")')).toBe('javascript:');
    expect(urlForLog('data:text/plain,Smith')).toBe('data:');
    expect(urlForLog('file:///home/Smith.pdf')).toBe('file:');
    expect(urlForLog('not a url Smith')).toBe('(not a URL)');
    expect(urlForLog(7)).toBe('(a number)');
  });
});

describe('externalLinkOpener', () => {
  function setup() {
    const shell = new ShellDouble();
    const logs: string[] = [];
    const open = externalLinkOpener({ appOrigin: ORIGIN, openExternal: shell.openExternal, log: (l) => logs.push(l) });
    return { shell, logs, open };
  }

  it('opens an https link in the system browser, without a log line', async () => {
    const { shell, logs, open } = setup();
    await open('https://example.org/guide?page=2', 'ipc');
    expect(shell.opened).toEqual(['https://example.org/guide?page=2']);
    expect(logs).toEqual([]);
  });

  it('refuses anything else: rejects, opens nothing, logs the scheme and host only', async () => {
    const { shell, logs, open } = setup();
    await expect(open('http://example.org/Patient?name=Smith', 'navigation')).rejects.toThrow('The link was not opened: only https:// links open in the browser.');
    await expect(open('javascript:fetch("/fhir/Patient?name=Smith")', 'window-open')).rejects.toThrow(/only https/);
    expect(shell.opened).toEqual([]);
    expect(logs).toEqual([
      'flint: refused a link (navigation) to http://example.org: only https:// links open in the browser',
      'flint: refused a link (window-open) to javascript:: only https:// links open in the browser',
    ]);
  });

  it('a browser that fails to open is logged by error name and rejects without the URL', async () => {
    const { shell, logs, open } = setup();
    shell.failing = true;
    const err = await open('https://example.org/Patient/Smith', 'ipc').catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('The link could not be opened in the system browser.');
    expect(logs).toEqual(['flint: the system browser did not open a link (ipc) to https://example.org: Error']);
  });
});
