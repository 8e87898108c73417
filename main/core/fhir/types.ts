/** The transport-free request/response of the FHIR router (http/ adapts to these). */
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';

export interface FhirRequest {
  method: string;
  /** Path segments after the FHIR base, e.g. ['Patient', '123', '_history', '2']. */
  path: string[];
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Parsed JSON body, when there is one. */
  body?: unknown;
  /** Media type of the body without parameters, e.g. 'application/fhir+json'. */
  contentType?: string;
  /** Absolute FHIR base URL without trailing slash, e.g. http://127.0.0.1:8787/fhir */
  baseUrl: string;
  /** Who is calling, resolved from the bearer token; absent when authentication is off. */
  principal?: Principal;
  /** The peer address of the connection (for the audit trail's network agent). */
  clientAddress?: string;
}

export interface FhirResponse {
  status: number;
  headers: Record<string, string>;
  body?: Resource;
  /** Bytes that are not a resource (a bulk export's manifest and NDJSON files), sent as they are. */
  raw?: { contentType: string; data: Buffer };
}

export const respond = (status: number, body?: Resource, headers: Record<string, string> = {}): FhirResponse =>
  body ? { status, headers, body } : { status, headers };
