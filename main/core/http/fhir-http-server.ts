/**
 * The loopback HTTP listener: a thin adapter from node:http to the FHIR router and the
 * auth handler. It owns transport concerns only: the Host and Origin checks, CORS, bearer
 * authentication, rate limits, URL parsing, body limits and decoding, content
 * negotiation, serialization and headers. Nothing here knows a FHIR interaction.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringifyJson } from '../../../shared/fhir/exact-json';
import { FhirError, badRequest, methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import { toResponse, type FaultLogger } from '../fhir/router';
import type { Principal } from '../auth/principal';
import type { FhirRequest, FhirResponse } from '../fhir/types';
import { AUTH_PREFIX, serveAuth, type AuthHandler, type AuthResponse } from './auth-routes';
import { authenticateBearer, isPublic, type Authenticate } from './bearer';
import { checkOrigin, corsHeaders, isPreflight, originDenied, preflightHeaders } from './cors';
import { checkedHost, misdirected } from './host-check';
import { checkAcceptable } from './negotiate';
import { RateLimiter, clientKey, type BucketConfig } from './rate-limit';
import { decodeBody, readBody } from './read-body';
import { withSecurityHeaders } from './security-headers';
import type { UiFiles } from './ui-static';
import type { FlintApi, FlintApiRequest } from '../flint-api/types';

export const FHIR_PREFIX = '/fhir';
/** Flint's own API beside FHIR: sync status and conflicts (docs/sync.md). */
export const FLINT_PREFIX = '/flint';

export interface RateLimits {
  /** Per endpoint and client: POST /auth/authorize, /auth/token, /auth/introspect, /auth/revoke. */
  auth: BucketConfig;
  /** Per client: requests with a bad bearer token. */
  bearerFailures: BucketConfig;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  auth: { burst: 10, perSecond: 1 },
  bearerFailures: { burst: 50, perSecond: 50 / 60 },
};

export interface HttpOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  handle: (req: FhirRequest) => Promise<FhirResponse>;
  logFault: FaultLogger;
  /** Registered app origins, the only cross-origin callers served (read per request). None when absent. */
  allowedOrigins?: () => ReadonlySet<string>;
  /** Bearer token -> principal. When absent, FHIR requests need no token (and get no principal). */
  authenticate?: Authenticate;
  /** Told of every FHIR request refused for want of a valid token (the audit trail records it). */
  onRefused?: (attempt: { method: string; path: string[]; status: number; address: string | undefined }) => Promise<void>;
  /** Serves /auth and /auth/*; those are 404 (not found outside /fhir) when absent. */
  authHandler?: AuthHandler;
  /** The document at GET /fhir/.well-known/smart-configuration; 404 there when absent. */
  smartConfiguration?: () => Record<string, unknown>;
  rateLimits?: Partial<RateLimits>;
  /** Serves /flint/* (signed-in callers, except on the API's public routes); 404 there when absent. */
  flint?: FlintApi;
  /** The built UI, served at / (paths outside /fhir, /auth and /flint); 404 there when absent. */
  ui?: UiFiles;
  /** The limiters' clock (tests). */
  now?: () => number;
}

export interface RunningServer {
  server: Server;
  port: number;
  origin: string;
  close(): Promise<void>;
}

interface Limiters {
  auth: RateLimiter;
  bearerFailures: RateLimiter;
}

const NO_ORIGINS: () => ReadonlySet<string> = () => new Set();

export async function startHttpServer(opts: HttpOptions): Promise<RunningServer> {
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  const limiters: Limiters = {
    auth: new RateLimiter(limits.auth, opts.now),
    bearerFailures: new RateLimiter(limits.bearerFailures, opts.now),
  };
  // Node would answer a request without Host with its own bare 400; the Host check
  // answers it instead, as every other foreign Host (421, with our headers).
  const streams = new Set<ServerResponse>();
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    void serve(req, res, opts, limiters, streams).catch(() => {
      // serve() answers every error itself; this only guards a broken socket.
      if (!res.headersSent) res.writeHead(500, withSecurityHeaders({})).end();
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
    origin: originOf(opts.host, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of streams) s.end();
        server.closeIdleConnections();
      }),
  };
}

const isApiPath = (pathname: string) =>
  [FHIR_PREFIX, AUTH_PREFIX, FLINT_PREFIX].some((p) => pathname === p || pathname.startsWith(`${p}/`));

const originOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

async function serve(req: IncomingMessage, res: ServerResponse, opts: HttpOptions, limiters: Limiters, streams: Set<ServerResponse>): Promise<void> {
  const port = req.socket.localPort ?? opts.port;
  const head = req.method === 'HEAD';
  // First, with the body unread: a page reaching us through DNS rebinding, or a page
  // of an unregistered origin, gets nothing but the refusal.
  const host = checkedHost(req, port);
  if (!host) return sendFhir(req, res, errorResponse(misdirected(port)));
  const cors = checkOrigin(req, host, opts.allowedOrigins ?? NO_ORIGINS);
  if (cors.kind === 'denied') return sendFhir(req, res, errorResponse(originDenied()));
  if (cors.kind === 'allowed' && isPreflight(req)) {
    res.writeHead(204, withSecurityHeaders(preflightHeaders(req, cors))).end();
    return;
  }
  const extra = corsHeaders(cors);
  // The base URL comes from the socket, never from the client's Host header.
  const origin = originOf(opts.host, port);
  const url = new URL(req.url ?? '/', origin);
  // Without an auth handler /auth/ is just another path outside /fhir (404), as before.
  if (opts.authHandler && (url.pathname === AUTH_PREFIX || url.pathname.startsWith(`${AUTH_PREFIX}/`))) {
    const client = clientKey(req.socket.remoteAddress);
    const ctx = { handler: opts.authHandler, origin, maxBodyBytes: opts.maxBodyBytes, limiter: limiters.auth, client, logFault: opts.logFault };
    return sendAuth(req, res, await serveAuth(req, url, ctx), extra);
  }
  const pretty = url.searchParams.get('_pretty') === 'true';
  if (opts.flint && (url.pathname === FLINT_PREFIX || url.pathname.startsWith(`${FLINT_PREFIX}/`))) {
    return serveFlint(req, res, url, opts, limiters, extra, streams);
  }
  const ui = opts.ui && !isApiPath(url.pathname) ? opts.ui.answer(req.method ?? 'GET', url.pathname) : undefined;
  if (ui) {
    res.writeHead(ui.status, ui.headers);
    res.end(head ? undefined : ui.body);
    return;
  }
  try {
    const path = fhirPath(url.pathname);
    let principal: Principal | undefined;
    if (opts.authenticate && !isPublic(req.method ?? 'GET', path)) {
      const client = clientKey(req.socket.remoteAddress);
      const result = await authenticateBearer(req.headers.authorization, opts.authenticate, limiters.bearerFailures, client);
      if ('response' in result) {
        // Refused before the router: the audit trail still hears of the attempt.
        await opts.onRefused?.({ method: req.method ?? 'GET', path, status: result.response.status, address: req.socket.remoteAddress }).catch(() => undefined);
        return sendFhir(req, res, result.response, { pretty, extra });
      }
      principal = result.principal;
    }
    if (path.length === 2 && path[0] === '.well-known' && path[1] === 'smart-configuration') {
      return sendJson(res, head, 200, extra, smartConfiguration(req, opts), 'application/json; charset=utf-8', pretty);
    }
    // A bulk export's files are NDJSON (Accept: application/fhir+ndjson); all else is JSON.
    checkAcceptable(req.headers.accept, url.searchParams.get('_format'), (path[0] === '_export' || path[0] === '_import') && path.length === 3);
    const raw = req.method === 'GET' || head ? Buffer.alloc(0) : await readBody(req, opts.maxBodyBytes);
    const decoded = decodeBody(raw, req.headers['content-type']);
    const fhirReq: FhirRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: routerHeaders(req, principal !== undefined),
      baseUrl: `${origin}${FHIR_PREFIX}`,
    };
    if (decoded.body !== undefined) fhirReq.body = decoded.body;
    if (decoded.type !== undefined) fhirReq.contentType = decoded.type;
    if (principal) fhirReq.principal = principal;
    if (req.socket.remoteAddress) fhirReq.clientAddress = req.socket.remoteAddress;
    sendFhir(req, res, await opts.handle(fhirReq), { pretty, extra });
  } catch (e) {
    sendFhir(req, res, toResponse(e, opts.logFault), { pretty, extra });
  }
}

/**
 * /flint/*: bearer-authenticated like FHIR (except the API's public routes); JSON in and
 * out (errors as OperationOutcome), raw bytes where a route says so (NDJSON exports),
 * and server-sent events, ended when the server closes.
 */
async function serveFlint(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opts: HttpOptions,
  limiters: Limiters,
  extra: Record<string, string>,
  streams: Set<ServerResponse>,
): Promise<void> {
  try {
    if (!opts.authenticate || !opts.flint) throw notFound('Not found');
    let path: string[];
    try {
      path = url.pathname.slice(FLINT_PREFIX.length).split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    } catch {
      throw badRequest('The URL path is not validly percent-encoded');
    }
    const method = req.method ?? 'GET';
    const apiReq: FlintApiRequest = { method, path, query: url.searchParams };
    // A public route still learns who calls when a token comes along.
    if (!opts.flint.isPublic(method, path) || req.headers.authorization !== undefined) {
      const client = clientKey(req.socket.remoteAddress);
      const result = await authenticateBearer(req.headers.authorization, opts.authenticate, limiters.bearerFailures, client);
      if ('response' in result) return sendFhir(req, res, result.response, { extra });
      apiReq.principal = result.principal;
    }
    const raw = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, opts.maxBodyBytes);
    const decoded = decodeBody(raw, req.headers['content-type']);
    if (decoded.body !== undefined) apiReq.body = decoded.body;
    if (req.socket.remoteAddress) apiReq.address = req.socket.remoteAddress;
    const answer = await opts.flint.handle(apiReq);
    if ('events' in answer) {
      res.writeHead(200, withSecurityHeaders({ ...extra, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' }));
      streams.add(res);
      const name = answer.eventName ?? 'message';
      const sub = answer.events.subscribe({
        next: (s) => void res.write(`event: ${name}\ndata: ${JSON.stringify(s)}\n\n`),
        complete: () => res.end(),
      });
      const ping = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      res.once('close', () => {
        clearInterval(ping);
        sub.unsubscribe();
        streams.delete(res);
      });
      return;
    }
    if ('raw' in answer) {
      const payload = typeof answer.raw === 'string' ? Buffer.from(answer.raw, 'utf8') : Buffer.from(answer.raw);
      const headers = withSecurityHeaders({ ...answer.headers, ...extra, 'Content-Type': answer.contentType, 'Content-Length': String(payload.length) });
      res.writeHead(answer.status, headers);
      res.end(method === 'HEAD' ? undefined : payload);
      return;
    }
    sendJson(res, method === 'HEAD', answer.status, extra, answer.body, 'application/json; charset=utf-8', url.searchParams.get('_pretty') === 'true');
  } catch (e) {
    sendFhir(req, res, toResponse(e, opts.logFault), { extra });
  }
}

const errorResponse = (e: FhirError): FhirResponse => ({ status: e.status, headers: {}, body: e.outcome });

function smartConfiguration(req: IncomingMessage, opts: HttpOptions): Record<string, unknown> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('Method not allowed here; allowed: GET');
  if (!opts.smartConfiguration) throw notFound('SMART on FHIR is not enabled on this server');
  return opts.smartConfiguration();
}

/** Once the token is resolved the router has the principal; the secret itself stays here. */
function routerHeaders(req: IncomingMessage, authenticated: boolean): Record<string, string | undefined> {
  const headers = req.headers as Record<string, string | undefined>;
  if (!authenticated) return headers;
  const { authorization: _token, ...rest } = headers;
  return rest;
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

interface SendOptions {
  pretty?: boolean;
  /** CORS headers. */
  extra?: Record<string, string>;
}

function sendFhir(req: IncomingMessage, res: ServerResponse, response: FhirResponse, o: SendOptions = {}): void {
  const headers = { ...response.headers, ...o.extra };
  if (mustClose(req, response.status)) headers['Connection'] = 'close';
  if (response.raw) {
    const out = withSecurityHeaders({ ...headers, 'Content-Type': response.raw.contentType, 'Content-Length': String(response.raw.data.length) });
    res.writeHead(response.status, out);
    res.end(req.method === 'HEAD' ? undefined : response.raw.data);
    return;
  }
  const body = response.status === 304 ? undefined : response.body;
  sendJson(res, req.method === 'HEAD', response.status, headers, body, 'application/fhir+json; charset=utf-8', o.pretty ?? false);
}

function sendJson(
  res: ServerResponse,
  head: boolean,
  status: number,
  own: Record<string, string>,
  body: unknown,
  contentType: string,
  pretty: boolean,
): void {
  const headers = withSecurityHeaders(own);
  let payload: Buffer | undefined;
  if (body !== undefined) {
    payload = Buffer.from(stringifyJson(body, pretty ? 2 : undefined), 'utf8');
    headers['Content-Type'] = contentType;
    headers['Content-Length'] = String(payload.length);
  }
  res.writeHead(status, headers);
  res.end(head ? undefined : payload);
}

/** Auth responses are the handler's own bytes (HTML, JSON, redirects); its page policy wins. */
function sendAuth(req: IncomingMessage, res: ServerResponse, response: AuthResponse, cors: Record<string, string>): void {
  const headers = withSecurityHeaders({ ...response.headers, ...cors }, true);
  if (mustClose(req, response.status)) headers['Connection'] = 'close';
  let payload: Buffer | undefined;
  if (response.body !== undefined) {
    payload = Buffer.from(response.body, 'utf8');
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
    headers['Content-Length'] = String(payload.length);
  }
  res.writeHead(response.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

/**
 * A refusal answered before the body was read (or mid-way, 413) hangs up: node would
 * otherwise read and discard the rest, however large, to reach the next request.
 */
function mustClose(req: IncomingMessage, status: number): boolean {
  const declaresBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return status === 413 || (declaresBody && !req.readableEnded);
}
