/** What every interaction handler gets: the services built by the composition root. */
import type { Compartments } from '../search/compartments';
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
  /** Rebuilds the search index with the stored custom SearchParameters; returns what it did. */
  reindex?: () => Promise<{ definitions: Definitions; processed: number; params: string[]; skipped: Array<{ id: string; reason: string }> }>;
  /** Where unexpected faults are reported (stack locations only; set by createRouter). */
  logFault?: (message: string) => void;
  /** The router itself, for Bundle entries (set by createRouter). */
  dispatch?: (req: import('./types').FhirRequest) => Promise<import('./types').FhirResponse>;
}
