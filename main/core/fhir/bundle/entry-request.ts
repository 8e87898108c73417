/** Turns a Bundle entry's request into a router request, and a response into an entry. */
import type { BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../../../shared/fhir/outcome';
import type { FhirRequest, FhirResponse } from '../types';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed',
  415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 500: 'Internal Server Error',
};

export interface EntryTarget {
  method: string;
  path: string[];
  query: URLSearchParams;
}

/** Parses entry.request.url (relative, or absolute under this server's base). */
export function entryTarget(entry: BundleEntry, index: number, baseUrl: string): EntryTarget {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw badRequest(`Bundle entry ${index} is not an object`);
  const method = entry.request?.method;
  let url = entry.request?.url;
  if (!method || !METHODS.has(method)) throw badRequest(`Bundle entry ${index}: request.method is missing or invalid`);
  if (typeof url !== 'string' || url.length === 0) throw badRequest(`Bundle entry ${index}: request.url is missing`);
  if (url.startsWith(baseUrl + '/')) url = url.slice(baseUrl.length + 1);
  else if (/^[a-z]+:/i.test(url)) throw badRequest(`Bundle entry ${index}: request.url must be relative to this server`);
  const q = url.indexOf('?');
  const pathPart = (q < 0 ? url : url.slice(0, q)).replace(/^\/+|\/+$/g, '');
  let path: string[];
  try {
    path = pathPart === '' ? [] : pathPart.split('/').map(decodeURIComponent);
  } catch {
    throw badRequest(`Bundle entry ${index}: request.url is not validly percent-encoded`);
  }
  return { method, path, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/**
 * The router request for an entry (PATCH bodies: Binary with JSON Patch, or Parameters).
 * It runs as the Bundle's caller: the parent's principal goes with it.
 */
export function entryRequest(entry: BundleEntry, target: EntryTarget, parent: Pick<FhirRequest, 'baseUrl' | 'principal' | 'clientAddress'>, index: number): FhirRequest {
  const { baseUrl } = parent;
  const headers: Record<string, string | undefined> = {
    'if-match': entry.request?.ifMatch,
    'if-none-match': entry.request?.ifNoneMatch,
    'if-none-exist': entry.request?.ifNoneExist,
    'if-modified-since': entry.request?.ifModifiedSince,
  };
  const req: FhirRequest = { method: target.method, path: target.path, query: target.query, headers, baseUrl };
  if (parent.principal) req.principal = parent.principal;
  if (parent.clientAddress) req.clientAddress = parent.clientAddress;
  let body: unknown = entry.resource;
  let contentType = 'application/fhir+json';
  if (target.method === 'PATCH' && entry.resource?.resourceType === 'Binary') {
    const data = (entry.resource as { data?: string }).data ?? '';
    try {
      body = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    } catch {
      throw badRequest(`Bundle entry ${index}: the Binary patch does not hold JSON`);
    }
    contentType = 'application/json-patch+json';
  }
  if (body !== undefined) {
    req.body = body;
    req.contentType = contentType;
  }
  return req;
}

/** The Bundle entry that reports a router response. */
export function responseEntry(res: FhirResponse): BundleEntry {
  const response: BundleEntryResponse = { status: `${res.status} ${STATUS_TEXT[res.status] ?? ''}`.trim() };
  if (res.headers.Location) response.location = res.headers.Location;
  if (res.headers.ETag) response.etag = res.headers.ETag;
  const lm = res.headers['Last-Modified'];
  if (lm) response.lastModified = new Date(lm).toISOString();
  const entry: BundleEntry = { response };
  const body = res.body as Resource | undefined;
  if (body) {
    if (body.resourceType === 'OperationOutcome' && res.status >= 300) response.outcome = body;
    else entry.resource = body;
  }
  return entry;
}
