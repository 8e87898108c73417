/**
 * The FHIR R4 API at /fhir, as the UI uses it. Plain functions over Http: reads, searches,
 * writes with If-Match, history, $everything, $validate, the CapabilityStatement.
 */
import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Http } from './http';

export const FHIR_BASE = '/fhir';

export type SearchParams = Record<string, string | string[] | undefined> | URLSearchParams | string;

export function queryString(params: SearchParams | undefined): string {
  if (params === undefined) return '';
  if (typeof params === 'string') return params.replace(/^\?/, '');
  if (params instanceof URLSearchParams) return params.toString();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  }
  return q.toString();
}

const withQuery = (path: string, params?: SearchParams) => {
  const q = queryString(params);
  return q ? `${path}?${q}` : path;
};

/** A resource with the ETag it was read with (for If-Match). */
export interface Versioned<T extends Resource> {
  resource: T;
  etag: string | undefined;
}

export class FhirApi {
  constructor(private readonly http: Http) {}

  async read<T extends Resource>(type: string, id: string, signal?: AbortSignal): Promise<Versioned<T>> {
    const r = await this.http.json<T>(`${FHIR_BASE}/${type}/${encodeURIComponent(id)}`, signal ? { signal } : {});
    return { resource: r.body, etag: r.headers.get('ETag') ?? etagOf(r.body) };
  }

  async vread<T extends Resource>(type: string, id: string, vid: string, signal?: AbortSignal): Promise<T> {
    return (await this.http.json<T>(`${FHIR_BASE}/${type}/${encodeURIComponent(id)}/_history/${encodeURIComponent(vid)}`, signal ? { signal } : {})).body;
  }

  async search<T extends Resource = Resource>(type: string | undefined, params?: SearchParams, signal?: AbortSignal): Promise<Bundle<T>> {
    const path = type ? `${FHIR_BASE}/${type}` : FHIR_BASE;
    return (await this.http.json<Bundle<T>>(withQuery(path, params), signal ? { signal } : {})).body;
  }

  /** A `next`/`previous` link of a searchset: same origin, fetched as is. */
  async page<T extends Resource = Resource>(url: string, signal?: AbortSignal): Promise<Bundle<T>> {
    const u = new URL(url, location.origin);
    if (u.origin !== location.origin || !u.pathname.startsWith(FHIR_BASE)) throw new Error('A paging link points outside this workstation');
    return (await this.http.json<Bundle<T>>(`${u.pathname}${u.search}`, signal ? { signal } : {})).body;
  }

  async create<T extends Resource>(resource: T): Promise<Versioned<T>> {
    const r = await this.http.json<T>(`${FHIR_BASE}/${resource.resourceType}`, {
      method: 'POST',
      body: resource,
      headers: { Prefer: 'return=representation' },
    });
    return { resource: r.body, etag: r.headers.get('ETag') ?? etagOf(r.body) };
  }

  /** Update with If-Match: a 412 means someone else saved first. */
  async update<T extends Resource>(resource: T, etag: string | undefined): Promise<Versioned<T>> {
    const headers: Record<string, string> = { Prefer: 'return=representation' };
    if (etag) headers['If-Match'] = etag;
    const r = await this.http.json<T>(`${FHIR_BASE}/${resource.resourceType}/${encodeURIComponent(resource.id ?? '')}`, { method: 'PUT', body: resource, headers });
    return { resource: r.body, etag: r.headers.get('ETag') ?? etagOf(r.body) };
  }

  async remove(type: string, id: string, etag?: string): Promise<void> {
    await this.http.fetch(`${FHIR_BASE}/${type}/${encodeURIComponent(id)}`, { method: 'DELETE', headers: etag ? { 'If-Match': etag } : {} });
  }

  async history<T extends Resource = Resource>(type: string, id: string, params?: SearchParams): Promise<Bundle<T>> {
    return (await this.http.json<Bundle<T>>(withQuery(`${FHIR_BASE}/${type}/${encodeURIComponent(id)}/_history`, params))).body;
  }

  async everything(patientId: string, params?: SearchParams, signal?: AbortSignal): Promise<Bundle> {
    return (await this.http.json<Bundle>(withQuery(`${FHIR_BASE}/Patient/${encodeURIComponent(patientId)}/$everything`, params), signal ? { signal } : {})).body;
  }

  /** $validate: the OperationOutcome (errors do not throw; a 400 carries the issues). */
  async validate(resource: Resource, mode?: 'create' | 'update'): Promise<OperationOutcome> {
    const path = `${FHIR_BASE}/${resource.resourceType}${mode === 'update' && resource.id ? `/${encodeURIComponent(resource.id)}` : ''}/$validate${mode ? `?mode=${mode}` : ''}`;
    try {
      return (await this.http.json<OperationOutcome>(path, { method: 'POST', body: resource })).body;
    } catch (e) {
      const outcome = (e as { outcome?: OperationOutcome }).outcome;
      if (outcome) return outcome;
      throw e;
    }
  }

  async capabilities(): Promise<CapabilityStatement> {
    return (await this.http.json<CapabilityStatement>(`${FHIR_BASE}/metadata`)).body;
  }
}

export const etagOf = (r: Resource | undefined): string | undefined => (r?.meta?.versionId ? `W/"${r.meta.versionId}"` : undefined);

/** The resources of a searchset's `match` entries (not the included ones, not outcomes). */
export function matches<T extends Resource>(b: Bundle<T> | undefined): T[] {
  return (b?.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome' && e.resource).map((e) => e.resource as T);
}

export const linkOf = (b: Bundle | undefined, rel: string): string | undefined => b?.link?.find((l) => l.relation === rel)?.url;
