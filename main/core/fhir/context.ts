/** What every interaction handler gets: the services built by the composition root. */
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import type { AuditRecorder } from '../audit/recorder';
import type { ExportJobs } from '../bulk/export-jobs';
import type { ImportJobs } from '../bulk/import-jobs';
import type { Compartments } from '../search/compartments';
import type { RequestAccess } from './access-guard';
import type { IndexSearch } from '../search/index-search';
import type { ResourceStore } from '../store/resource-store';
import type { Definitions } from './definitions';
import type { Validator } from './validation/validator';

export interface FhirSettings {
  defaultPageSize: number;
  maxPageSize: number;
}

export interface FhirContext {
  store: ResourceStore;
  defs: Definitions;
  validator: Validator;
  search: IndexSearch;
  compartments: Compartments;
  settings: FhirSettings;
  /** Bulk export jobs ($export); absent: no bulk export. */
  exports?: ExportJobs;
  /** Bulk import jobs ($import); absent: no bulk import. */
  imports?: ImportJobs;
  /** Rebuilds the search index with the stored custom SearchParameters; returns what it did. */
  reindex?: () => Promise<{ definitions: Definitions; processed: number; params: string[]; skipped: Array<{ id: string; reason: string }> }>;
  /**
   * Set when every request must carry a principal (the HTTP layer authenticates); the
   * router then answers 401 without one and runs the access guard with one.
   */
  accessControl?: boolean;
  /** The audit trail: every request is recorded through it (absent: no auditing, e.g. unit tests). */
  audit?: AuditRecorder;
  /**
   * AuditEvents live in the audit log, not the store: requests for that type read and
   * search this view (caught up first) and may not write.
   */
  auditView?: { store: ResourceStore; search: IndexSearch; ready(): Promise<void> };
  /**
   * Replicated writes are committed and then indexed: while one is between the two, this
   * returns a promise that settles when the index has them (absent or undefined: none).
   * The router awaits it before each request, so what a read shows, a search finds.
   */
  replicasIndexed?: () => Promise<void> | undefined;
  /** The caller's access for this request (set by the router when there is a principal). */
  access?: RequestAccess;
  /** The CapabilityStatement's `rest.security` (SMART endpoints) for a base URL. */
  capabilitySecurity?: (baseUrl: string) => CapabilityStatementRestSecurity;
  /** Serve these definitions from now on (after $reindex; set by createRouter). */
  useDefinitions?: (defs: Definitions) => void;
  /** Where unexpected faults are reported (stack locations only; set by createRouter). */
  logFault?: (message: string) => void;
  /** The router itself, for Bundle entries (set by createRouter). */
  dispatch?: (req: import('./types').FhirRequest) => Promise<import('./types').FhirResponse>;
}
