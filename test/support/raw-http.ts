/**
 * Raw HTTP/1.1 requests over node:http, for tests that must send what fetch refuses to:
 * any method token, any header value, bodies that are not valid UTF-8, exact bytes.
 * Each request uses its own connection (no keep-alive), so a server that closes a
 * connection (413, a parser error) cannot affect the next request.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, sent as is (e.g. `/fhir/Patient?x=1`). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  timeoutMs?: number;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** The server closed the connection (or never answered) without an HTTP response. */
export class NoResponseError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'NoResponseError';
  }
}

/** `origin`: `http://127.0.0.1:PORT` (a base URL's path is ignored). */
export function rawRequest(origin: string, req: RawRequest): Promise<RawReply> {
  const url = new URL(origin);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string> = { ...req.headers };
  if (body !== undefined && !req.chunked) headers['content-length'] = String(body.length);
  if (req.chunked) headers['transfer-encoding'] = 'chunked';
  return new Promise<RawReply>((resolve, reject) => {
    let settled = false;
    let responded = false;
    const fail = (e: NoResponseError) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    };
    const r = request(
      { host: url.hostname, port: Number(url.port), method: req.method, path: req.path, headers, agent: false, setHost: true },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: NodeJS.ErrnoException) => fail(new NoResponseError(`response aborted: ${e.message}`, e.code)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
      },
    );
    const timeoutMs = req.timeoutMs ?? 30_000;
    r.setTimeout(timeoutMs, () => {
      fail(new NoResponseError(`no response within ${timeoutMs} ms`, 'ETIMEDOUT'));
      r.destroy();
    });
    r.on('error', (e: NodeJS.ErrnoException) => {
      // A server may answer early (an error before reading the body) and close the
      // connection while the body is still being sent: the upload then fails with EPIPE
      // or ECONNRESET although the response is on its way. Give it a moment to arrive,
      // as curl would read it.
      if (responded) return; // the response's own end/error decides
      setTimeout(() => {
        if (!responded) fail(new NoResponseError(e.message, e.code));
      }, 250);
    });
    if (body !== undefined) r.end(body);
    else r.end();
  });
}

/** The origin (scheme://host:port) of a base URL such as `http://127.0.0.1:PORT/fhir`. */
export const originOf = (baseUrl: string): string => new URL(baseUrl).origin;

/** Parses a JSON body, or undefined when it is empty or not JSON. */
export function jsonOf(reply: RawReply): unknown {
  if (reply.body.length === 0) return undefined;
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    return undefined;
  }
}
