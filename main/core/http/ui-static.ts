/**
 * The UI's files (the Vite build in dist/renderer), served at `/` on the same origin as
 * the FHIR API, so the UI runs in the Electron window and in any browser alike. The
 * files are read once into memory when the server starts (a few megabytes, no PHI):
 * a request can only ever get one of them, so no path ever reaches the file system.
 *
 * Every answer carries the UI's Content-Security-Policy (same origin only, no inline
 * script, no eval) besides the usual security headers. Paths without a file extension
 * are the single-page app's own routes (`/patients/...`, `/callback`, `/setup`) and get
 * index.html; hashed assets may be cached, index.html never.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { SECURITY_HEADERS } from './security-headers';

/** The UI's policy, also set by the Electron shell on its session (main/shell/security.ts). */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export interface UiFile {
  body: Buffer;
  contentType: string;
  /** Content-hashed by the build: safe to cache for good. */
  immutable: boolean;
}

export interface UiAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface UiFiles {
  /** The answer for a GET or HEAD of `pathname`, or undefined when it is not the UI's. */
  answer(method: string, pathname: string): UiAnswer | undefined;
}

/** Headers of every UI answer: the security headers with the UI's CSP and caching. */
export function uiHeaders(contentType: string, cache: string): Record<string, string> {
  return {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': UI_CONTENT_SECURITY_POLICY,
    // The sign-in redirect back to the UI carries ?code=: never in a Referer.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': cache,
    'Content-Type': contentType,
  };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

/** Loads a built UI directory (with index.html); undefined when there is none. */
export function loadUiFiles(dir: string | undefined): UiFiles | undefined {
  if (!dir || !existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, UiFile>();
  for (const full of walk(dir)) {
    const type = TYPES[extname(full).toLowerCase()];
    if (!type) continue;
    const path = `/${relative(dir, full).split(sep).join('/')}`;
    files.set(path, { body: readFileSync(full), contentType: type, immutable: path.startsWith('/assets/') });
  }
  const index = files.get('/index.html')!;
  return {
    answer(method, pathname) {
      if (method !== 'GET' && method !== 'HEAD') return undefined;
      const file = files.get(pathname) ?? (extname(pathname) === '' ? index : undefined);
      if (!file) return undefined;
      const cache = file.immutable ? 'public, max-age=31536000, immutable' : 'no-store';
      return { status: 200, headers: { ...uiHeaders(file.contentType, cache), 'Content-Length': String(file.body.length) }, body: file.body };
    },
  };
}
