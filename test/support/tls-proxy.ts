/**
 * TLS in front of a plain-HTTP test server, as a clinic would put CouchDB behind a TLS
 * reverse proxy (docs/sync.md, "Setting up Apache CouchDB 3"): a private CA and a server
 * certificate for 127.0.0.1 (IP SAN) made with the `openssl` CLI, and a `node:https`
 * server in the test process that forwards every request to the target unchanged.
 * It counts what it forwarded and the TLS handshakes that failed, so a test can tell
 * "nothing was sent" from "sent and refused".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** PEM file of the CA certificate (what a workstation trusts with --ca-file). */
  caFile: string;
  /** PEM of the server certificate (signed by the CA, SAN IP:127.0.0.1) and its key. */
  cert: string;
  key: string;
  close(): void;
}

/** Whether the openssl CLI can be run here (the test says so plainly when it cannot). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** A private CA and a server certificate for 127.0.0.1, made with the openssl CLI in a temp dir. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'flint-ca-'));
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=Flint Test Clinic CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']); // prettier-ignore
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')]); // prettier-ignore
  return {
    dir,
    caFile: f('ca.pem'),
    cert: readFileSync(f('server.pem'), 'utf8'),
    key: readFileSync(f('server.key'), 'utf8'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  /** https://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  /** Requests that completed a TLS handshake and were forwarded. */
  forwarded(): number;
  /** TLS handshakes that failed (e.g. the client did not trust the certificate). */
  tlsErrors(): number;
  close(): Promise<void>;
}

/** An HTTPS reverse proxy on 127.0.0.1 and a free port to `target` (http://host:port). */
export async function startTlsProxy(target: string, tls: { cert: string; key: string }): Promise<TlsProxy> {
  const to = new URL(target);
  let forwarded = 0;
  let tlsErrors = 0;
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    forwarded++;
    const headers = { ...req.headers, host: to.host };
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"bad_gateway","reason":"the proxied server did not answer"}');
    });
    req.pipe(upstream);
  });
  server.on('tlsClientError', () => {
    tlsErrors++;
  });
  // Every connection from its first byte: one still in its TLS handshake (a client that
  // refuses the certificate may hang up slowly) would otherwise hold close() for the
  // 120 s handshake timeout.
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    forwarded: () => forwarded,
    tlsErrors: () => tlsErrors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
