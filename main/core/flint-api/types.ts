/**
 * Flint's own API beside FHIR (`/flint/*`), transport-free like the FHIR router: the
 * HTTP layer authenticates (unless the route is public), decodes JSON bodies and
 * serializes; a handler decides who may do what and does it. Errors are FhirErrors
 * (an OperationOutcome with its status), like the FHIR API's.
 */
import type { Observable } from 'rxjs';
import type { Principal } from '../auth/principal';

export interface FlintApiRequest {
  method: string;
  /** Segments after /flint, decoded. */
  path: string[];
  query: URLSearchParams;
  body?: unknown;
  /** Absent only on public routes (e.g. first-run setup). */
  principal?: Principal;
  address?: string;
}

/** A signed-in request: what every non-public route receives. */
export type AuthedFlintRequest = FlintApiRequest & { principal: Principal };

export type FlintApiResponse =
  | { status: number; body: unknown }
  /** Server-sent events (`event: <name>`, JSON data), ended when the server closes. */
  | { status: 200; events: Observable<unknown>; eventName?: string }
  /** Bytes as they are, e.g. an NDJSON export. */
  | { status: number; raw: string | Uint8Array; contentType: string; headers?: Record<string, string> };

export interface FlintRoute {
  /** The first path segment it serves: `sync`, `setup`, `admin`, ... */
  prefix: string;
  /** Whether a request may come without a bearer token (the handler then gets no principal). */
  isPublic?: (method: string, path: readonly string[]) => boolean;
  handle(req: FlintApiRequest): Promise<FlintApiResponse>;
}

export interface FlintApi {
  isPublic(method: string, path: readonly string[]): boolean;
  handle(req: FlintApiRequest): Promise<FlintApiResponse>;
}
