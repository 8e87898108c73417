/**
 * The loopback HTTP listener: a thin adapter from node:http to the FHIR router. It owns
 * transport concerns only: URL parsing, body limits and decoding, content negotiation,
 * serialization and headers. Nothing here knows a FHIR interaction.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FhirError, badRequest, notFound } from '../../../shared/fhir/outcome';
import { toResponse, type FaultLogger } from '../fhir/router';
import type { FhirRequest, FhirResponse } from '../fhir/types';
import { checkAcceptable } from './negotiate';
import { decodeBody, readBody } from './read-body';

export const FHIR_PREFIX = '/fhir';

export interface HttpOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  handle: (req: FhirRequest) => Promise<FhirResponse>;
  logFault: FaultLogger;
}

export interface RunningServer {
  server: Server;
  port: number;
  origin: string;
  close(): Promise<void>;
}

const BASE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

export async function startHttpServer(opts: HttpOptions): Promise<RunningServer> {
  const server = createServer((req, res) => {
    void serve(req, res, opts).catch(() => {
      // serve() answers every error itself; this only guards a broken socket.
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, opts: HttpOptions): Promise<void> {
  let response: FhirResponse;
  let pretty = false;
  try {
    // The base URL comes from the socket, never from the client's Host header.
    const origin = `http://${opts.host}:${req.socket.localPort ?? opts.port}`;
    const url = new URL(req.url ?? '/', origin);
    pretty = url.searchParams.get('_pretty') === 'true';
    const path = fhirPath(url.pathname);
    checkAcceptable(req.headers.accept, url.searchParams.get('_format'));
    const raw = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, opts.maxBodyBytes);
    const decoded = decodeBody(raw, req.headers['content-type']);
    const fhirReq: FhirRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: req.headers as Record<string, string | undefined>,
      baseUrl: `${origin}${FHIR_PREFIX}`,
    };
    if (decoded.body !== undefined) fhirReq.body = decoded.body;
    if (decoded.type !== undefined) fhirReq.contentType = decoded.type;
    response = await opts.handle(fhirReq);
  } catch (e) {
    response = toResponse(e, opts.logFault);
    if (e instanceof FhirError && e.status === 413) res.setHeader('Connection', 'close');
  }
  send(res, req.method === 'HEAD', response, pretty);
}

function fhirPath(pathname: string): string[] {
  if (pathname !== FHIR_PREFIX && !pathname.startsWith(FHIR_PREFIX + '/')) throw notFound('Not found; the FHIR API is at /fhir');
  const rest = pathname.slice(FHIR_PREFIX.length).replace(/^\/+|\/+$/g, '');
  if (rest === '') return [];
  try {
    return rest.split('/').map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest('The URL path is not validly percent-encoded');
  }
}

function send(res: ServerResponse, head: boolean, response: FhirResponse, pretty: boolean): void {
  const headers: Record<string, string> = { ...BASE_HEADERS, ...response.headers };
  let payload: Buffer | undefined;
  if (response.body !== undefined && response.status !== 304) {
    payload = Buffer.from(JSON.stringify(response.body, null, pretty ? 2 : undefined), 'utf8');
    headers['Content-Type'] = 'application/fhir+json; charset=utf-8';
    headers['Content-Length'] = String(payload.length);
  }
  res.writeHead(response.status, headers);
  res.end(head ? undefined : payload);
}
