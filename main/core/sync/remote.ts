/**
 * The central server as Flint sees it: a CouchDB-protocol endpoint reached over HTTP(S)
 * with Basic credentials and, optionally, a private CA (docs/sync.md, "The server").
 * Everything that talks to it (the replicators, setup-remote, the audit pusher, the
 * remote verifier) goes through remoteFetch, so credentials and TLS trust are set in one
 * place. Credentials never appear in a URL, a log line or an error message.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import { FlintPouchDB } from '../store/encrypted-pouch';

const require = createRequire(import.meta.url);
// node-fetch through PouchDB's own wrapper: it takes an `agent`, which Node's fetch does not.
const pouchFetch = (require('pouchdb-fetch') as { fetch: FetchFn }).fetch;

export type FetchFn = (url: string, init?: Record<string, unknown>) => Promise<FetchResponse>;
export interface FetchResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export interface RemoteEndpoint {
  /** The database URL, e.g. https://couch.clinic.example:6984/clinic (no credentials in it). */
  url: string;
  username: string;
  password: string;
  /** PEM file of a CA to trust besides the system's (a clinic's private CA). */
  caFile?: string;
}

/** A remote request failed: `status` 0 means the server could not be reached at all. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
    /** For status 0: the network or TLS error code (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE...). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** Refuses URLs Flint cannot use, and URLs that carry credentials (they belong in the keychain). */
export function checkRemoteUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`"${raw}" is not a URL (expected e.g. https://couch.example:6984/clinic)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError('the remote URL must be http: or https:');
  if (url.username || url.password) throw new RangeError('put the user name in --username and the password on stdin, not in the URL');
  if (url.search || url.hash) throw new RangeError('the remote URL takes no query or fragment');
  const db = url.pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!/^[a-z][a-z0-9_$()+/-]*$/.test(db)) throw new RangeError('the remote URL must end in a database name (lower-case letters, digits, _$()+-)');
  return url;
}

/** The database name at the end of a database URL. */
export function databaseName(url: string): string {
  return new URL(url).pathname.replace(/\/+$/, '').split('/').pop() ?? '';
}

/** The URL of another database on the same server (e.g. `clinic-audit` beside `clinic`). */
export function siblingDatabase(url: string, name: string): string {
  const u = new URL(url);
  const parts = u.pathname.replace(/\/+$/, '').split('/');
  parts[parts.length - 1] = name;
  u.pathname = parts.join('/');
  return u.toString().replace(/\/+$/, '');
}

/** The server's root URL (for `_session`, `_users`, `_up`). */
export function serverRoot(url: string): string {
  const u = new URL(url);
  const parts = u.pathname.replace(/\/+$/, '').split('/');
  parts.pop();
  u.pathname = parts.join('/') || '/';
  return u.toString().replace(/\/+$/, '');
}

const agents = new Map<string, HttpsAgent>();

/** fetch with the endpoint's CA (if any) and Basic credentials. */
export function remoteFetch(endpoint: RemoteEndpoint): FetchFn {
  let agent: HttpsAgent | undefined;
  if (endpoint.caFile) {
    agent = agents.get(endpoint.caFile);
    if (!agent) {
      const ca = readFileSync(endpoint.caFile, 'utf8');
      agent = new HttpsAgent({ ca, keepAlive: true });
      agents.set(endpoint.caFile, agent);
    }
  }
  const basic = `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`, 'utf8').toString('base64')}`;
  return (url, init = {}) => {
    const headers = init['headers'];
    // PouchDB passes a node-fetch Headers object; plain callers pass a record.
    if (headers && typeof (headers as { set?: unknown }).set === 'function') {
      (headers as { set(k: string, v: string): void }).set('Authorization', basic);
    } else {
      init['headers'] = { ...(headers as Record<string, string> | undefined), Authorization: basic };
    }
    return pouchFetch(url, agent && url.startsWith('https:') ? { ...init, agent } : init);
  };
}

/** A PouchDB handle on a remote database; never creates it (`flint sync setup-remote` does). */
export function openRemoteDb(endpoint: RemoteEndpoint, url = endpoint.url): PouchDB.Database {
  return new FlintPouchDB(url, {
    fetch: remoteFetch(endpoint),
    skip_setup: true,
  } as PouchDB.Configuration.DatabaseConfiguration);
}

/**
 * One JSON request to the server. Throws RemoteError with the server's status and
 * `reason` (CouchDB's words, which hold no document content), or status 0 when it could
 * not be reached.
 */
export async function couchJson<T = unknown>(
  endpoint: RemoteEndpoint,
  method: string,
  url: string,
  body?: unknown,
  fetchFn: FetchFn = remoteFetch(endpoint),
): Promise<T> {
  let res: FetchResponse;
  try {
    res = await fetchFn(url, {
      method,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    const code = networkCode(e);
    throw new RemoteError(`the server at ${new URL(url).origin} could not be reached (${code})`, 0, undefined, code);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new RemoteError(`the server answered ${res.status} with something other than JSON`, res.status);
  }
  if (!res.ok) {
    const reason = (json as { reason?: string; error?: string } | undefined)?.reason ?? (json as { error?: string } | undefined)?.error;
    throw new RemoteError(`the server answered ${res.status}${reason ? `: ${reason}` : ''}`, res.status, reason);
  }
  return json as T;
}

/** ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED...: the code only (messages may quote hosts and paths). */
export function networkCode(e: unknown): string {
  const err = e as { code?: string; errno?: string; cause?: { code?: string }; type?: string };
  return err.code ?? err.errno ?? err.cause?.code ?? err.type ?? 'network error';
}
