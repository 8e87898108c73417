/**
 * The transport-free request/response of the SMART authorization server (http/ adapts
 * to these, as it does for the FHIR router), and what the server needs from the rest
 * of the core.
 */
import type { Accounts } from '../accounts';

export interface AuthRequest {
  method: string;
  /** Path segments after `/auth`, e.g. ['authorize'] or ['token']. */
  path: string[];
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The parsed application/x-www-form-urlencoded body, when there is one. */
  form?: URLSearchParams;
  /** e.g. http://127.0.0.1:8787 (the server's own origin, from the socket, never from Host). */
  origin: string;
}

export interface AuthResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
  /**
   * A credential was presented and was wrong (client assertion or secret, password,
   * authorization code, refresh token): the transport counts these, and only these,
   * against the caller's rate limits (http/auth-routes.ts).
   */
  authFailed?: boolean;
}

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
}

export interface SmartDeps {
  accounts: Accounts;
  /** Patients for the patient picker: search by name prefix (empty = first page). */
  findPatients(nameQuery: string): Promise<PatientChoice[]>;
  /** Whether Patient/<id> exists (a launch patient must). */
  patientExists(id: string): Promise<boolean>;
  now?: () => number;
  /** Whether a resource type exists (scopes naming another type grant nothing); default: any. */
  isResourceType?: (type: string) => boolean;
  /** Where unexpected faults are reported: stack locations only, never a message. */
  logFault?: (message: string) => void;
}

export type AuthHandler = (req: AuthRequest) => Promise<AuthResponse>;
