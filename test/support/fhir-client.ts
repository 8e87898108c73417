/** A minimal FHIR JSON client over fetch, for tests and benchmarks. */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { carryDecimalTexts, decimalTextsOf, parseJson, stringifyJson } from '../../shared/fhir/exact-json';

export interface FhirReply<T = Resource> {
  status: number;
  headers: Headers;
  body: T;
  /** The body as the server wrote it. */
  text: string;
}

export class FhirClient {
  /** `token`: a bearer token for every request (startWorkstation mints one: `ws.token`). */
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async request<T = Resource>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<FhirReply<T>> {
    const auth: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const init: RequestInit = { method, headers: { accept: 'application/fhir+json', ...auth, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as string) : stringifyJson(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/fhir+json';
    }
    const res = await fetch(`${this.baseUrl}${path.startsWith('/') || path === '' ? '' : '/'}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? parseJson(text) : undefined) as T, text };
  }

  get<T = Resource>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }
  put<T = Resource>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body, headers);
  }
  post<T = Resource>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }
  patch<T = Resource>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('PATCH', path, body, headers);
  }
  delete<T = Resource>(path: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', path, undefined, headers);
  }
}

export function isOutcome(body: unknown): body is OperationOutcome {
  return !!body && (body as Resource).resourceType === 'OperationOutcome';
}

/** Strips the server-managed meta fields, for comparing a stored resource with its input. */
export function withoutServerMeta<T extends Resource>(r: T): T {
  const copy = carryDecimalTexts(r, structuredClone(r)) as T & { meta?: Record<string, unknown> };
  if (copy.meta) {
    delete copy.meta.versionId;
    delete copy.meta.lastUpdated;
    if (Object.keys(copy.meta).length === 0) delete copy.meta;
  }
  return copy;
}

/**
 * The value with every number replaced by its exact text (`"1.10"`), so that toEqual
 * compares numbers as FHIR keeps them, not as JavaScript reads them.
 */
export function exactForm(value: unknown): unknown {
  const texts = decimalTextsOf(value) ?? {};
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'number') return `#${texts[path] ?? String(node)}`;
    if (Array.isArray(node)) return node.map((v, i) => walk(v, path ? `${path}.${i}` : String(i)));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]));
    }
    return node;
  };
  return walk(value, '');
}
