/**
 * The one way the UI reaches the core: fetch on the same origin with the session's bearer
 * token. A 401 gets one silent token refresh and one retry; every other failure becomes
 * an ApiError (with the OperationOutcome) or an OfflineError.
 */
import { ApiError, OfflineError, describeIssues, isOperationOutcome } from './errors';
import { parseJson, stringifyJson } from '../../shared/fhir/exact-json';

export interface TokenSource {
  /** A valid access token (refreshed when close to expiry). */
  token(): Promise<string>;
  /** After a 401: get a new token now; false when the session cannot be renewed. */
  renew(): Promise<boolean>;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Return the Response itself (for streams and text), after status checks. */
  raw?: boolean;
}

export interface JsonResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class Http {
  constructor(private readonly tokens: TokenSource | undefined) {}

  async fetch(path: string, o: RequestOptions = {}): Promise<Response> {
    const send = async () => {
      const headers: Record<string, string> = { Accept: 'application/fhir+json, application/json', ...o.headers };
      if (this.tokens) headers.Authorization = `Bearer ${await this.tokens.token()}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = stringifyJson(o.body);
        headers['Content-Type'] ??= path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json';
      }
      try {
        return await fetch(path, { method: o.method ?? 'GET', headers, body, signal: o.signal ?? null, credentials: 'omit', cache: 'no-store' });
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw new OfflineError();
      }
    };
    let res = await send();
    if (res.status === 401 && this.tokens && (await this.tokens.renew())) res = await send();
    if (!res.ok && res.status !== 304) throw await errorOf(res);
    return res;
  }

  async json<T>(path: string, o: RequestOptions = {}): Promise<JsonResult<T>> {
    const res = await this.fetch(path, o);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? parseJson(text) : undefined) as T };
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isOperationOutcome(parsed)) return new ApiError(res.status, parsed, describeIssues(parsed));
  const oauth = parsed as { error?: string; error_description?: string } | undefined;
  return new ApiError(res.status, undefined, oauth?.error_description ?? oauth?.error ?? `HTTP ${res.status}`);
}
