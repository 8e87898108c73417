/**
 * DNS-rebinding defence. Binding to loopback keeps other machines out, but not web
 * pages: a hostile name that resolves to 127.0.0.1 makes the browser treat our answers
 * as that site's own, readable by its scripts. Such requests carry the hostile name in
 * Host, so only the loopback names, with the port the request arrived on, are served.
 */
import type { IncomingMessage } from 'node:http';
import { FhirError, outcome } from '../../../shared/fhir/outcome';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** The Host header if it names this server (lower-cased), else undefined. */
export function checkedHost(req: IncomingMessage, port: number): string | undefined {
  // headersDistinct keeps duplicates that req.headers would silently drop: two Host
  // headers are ambiguous (a proxy may pick the other one), so they are refused.
  const values = req.headersDistinct.host;
  if (!values || values.length !== 1) return undefined;
  const host = values[0]!.trim().toLowerCase();
  if (!LOOPBACK_NAMES.some((name) => host === `${name}:${port}`)) return undefined;
  return targetAgrees(req.url ?? '/', port) ? host : undefined;
}

/**
 * An absolute-form target (`GET http://name:port/fhir HTTP/1.1`) names the host as
 * well, and HTTP says it overrides Host: it must name this server too.
 */
function targetAgrees(target: string, port: number): boolean {
  if (target.startsWith('/') || target === '*' || !URL.canParse(target)) return true;
  const url = new URL(target);
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_NAMES.some((name) => url.host === `${name}:${port}`);
}

export const misdirected = (port: number): FhirError =>
  new FhirError(
    421,
    outcome('error', 'processing', `This server answers only to Host 127.0.0.1:${port}, localhost:${port} or [::1]:${port}`),
  );
