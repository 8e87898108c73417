/**
 * A real listener on 127.0.0.1:0 with stub services, for the tests in this folder only:
 * the FHIR handler echoes the request, one fixed token is valid, the auth handler
 * answers an HTML page (or JSON) and records what it got. The limiters' clock is manual.
 */
import { connect } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { parseScopes } from '../auth/scopes';
import { respond, type FhirRequest } from '../fhir/types';
import { rawRequest, type RawReply, type RawRequest } from '../../../test/support/raw-http';
import type { AuthRequest, AuthResponse } from './auth-routes';
import { startHttpServer, type HttpOptions, type RunningServer } from './fhir-http-server';

export const TOKEN = 'valid.token-123';
export const APP_ORIGIN = 'https://app.example.org';
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

export const PRINCIPAL: Principal = {
  subject: 'u1',
  clientId: 'app-1',
  scopes: parseScopes('user/*.read'),
  permissions: [],
  admin: false,
  tokenId: 'jti-1',
};

export interface TestServer extends RunningServer {
  fhirCalls: FhirRequest[];
  authCalls: AuthRequest[];
  /** Milliseconds, for the rate limiters. */
  clock: { now: number };
  send(req: RawRequest): Promise<RawReply>;
  /** `Host: 127.0.0.1:<port>`, as a well-behaved client sends it. */
  host: string;
}

export async function startTestServer(over: Partial<HttpOptions> = {}): Promise<TestServer> {
  const fhirCalls: FhirRequest[] = [];
  const authCalls: AuthRequest[] = [];
  const clock = { now: 1_000_000 };
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 4096,
    logFault: () => undefined,
    handle: async (req) => {
      fhirCalls.push(req);
      const echo = { resourceType: 'Basic', id: 'echo', code: { text: `${req.method} ${req.path.join('/')}` } } as Resource;
      return respond(200, echo, { ETag: 'W/"1"' });
    },
    allowedOrigins: () => new Set([APP_ORIGIN]),
    authenticate: async (token) => (token === TOKEN ? PRINCIPAL : undefined),
    authHandler: async (req): Promise<AuthResponse> => {
      authCalls.push(req);
      // `fail=1` plays a wrong credential (what the rate limits count).
      if (req.form?.get('fail') === '1') return { status: 401, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: 'invalid_client' }), authFailed: true };
      if (req.path[0] === 'authorize') {
        return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'Referrer-Policy': 'no-referrer' }, body: '<p>sign in</p>' };
      }
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ok: true, form: req.form?.toString() }) };
    },
    smartConfiguration: () => ({ issuer: 'http://127.0.0.1', token_endpoint: 'http://127.0.0.1/auth/token' }),
    now: () => clock.now,
    ...over,
  });
  return { ...server, fhirCalls, authCalls, clock, host: `127.0.0.1:${server.port}`, send: (req) => rawRequest(server.origin, req) };
}

/**
 * Sends `head` (request line and headers, no Host unless given) and then `tail` as is;
 * resolves what came back once the server closes the connection (or after `waitMs`).
 */
export function sendRaw(port: number, head: string, tail = '\r\nConnection: close\r\n\r\n', waitMs = 3_000): Promise<{ status: number; text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0), text, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => done(true));
    // write, not end: a half-closed socket makes node abort the request unanswered.
    socket.write(`${head}${tail}`);
  });
}
