/**
 * The one declarative table of what this server serves. The router matches requests
 * against it and the CapabilityStatement is generated from it, so the statement cannot
 * claim what is not routed (the Blaze model: one registry feeds both).
 */
import { batchOrTransaction } from './bundle/batch-or-transaction';
import type { Handler } from './interactions/route';
import { capabilities } from './interactions/capabilities';
import { create } from './interactions/create';
import { conditionalRemove, remove } from './interactions/delete';
import { history } from './interactions/history';
import { conditionalPatch, patch } from './interactions/patch';
import { read } from './interactions/read';
import { searchCompartment } from './interactions/search-compartment';
import { searchSystem } from './interactions/search-system';
import { searchType } from './interactions/search-type';
import { conditionalUpdate, update } from './interactions/update';
import { vread } from './interactions/vread';
import { exportCancel, exportFile, exportStatus, importCancel, importErrors, importStatus } from './interactions/bulk-status';
import { importOperation } from './operations/import';
import { everything } from './operations/everything';
import { exportGroup, exportPatients, exportSystem } from './operations/export';
import { reindexOperation } from './operations/reindex';
import { validate } from './operations/validate';

export type TypeInteraction =
  | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';
export type SystemInteraction = 'transaction' | 'batch' | 'history-system' | 'search-system' | 'capabilities';

export interface Route {
  method: string;
  /** Segments; ':type', ':id', ':vid', ':op' ($name) are parameters. */
  pattern: string[];
  handler: Handler;
  /** The CapabilityStatement interaction this route implements. */
  interaction?: TypeInteraction | SystemInteraction;
  conditional?: 'create' | 'update' | 'patch' | 'delete';
  operation?: string;
}

export const routes: Route[] = [
  { method: 'GET', pattern: ['metadata'], handler: capabilities, interaction: 'capabilities' },
  { method: 'POST', pattern: [], handler: batchOrTransaction, interaction: 'transaction' },
  { method: 'POST', pattern: [], handler: batchOrTransaction, interaction: 'batch' },
  { method: 'GET', pattern: ['_history'], handler: history, interaction: 'history-system' },
  { method: 'GET', pattern: [], handler: searchSystem, interaction: 'search-system' },
  { method: 'POST', pattern: ['_search'], handler: searchSystem, interaction: 'search-system' },
  { method: 'POST', pattern: [':op'], handler: reindexOperation, operation: 'reindex' },
  { method: 'GET', pattern: [':op'], handler: exportSystem, operation: 'export' },
  { method: 'POST', pattern: [':op'], handler: exportSystem, operation: 'export' },
  { method: 'GET', pattern: ['_export', ':id'], handler: exportStatus },
  { method: 'DELETE', pattern: ['_export', ':id'], handler: exportCancel },
  { method: 'GET', pattern: ['_export', ':id', ':file'], handler: exportFile },
  { method: 'POST', pattern: [':op'], handler: importOperation, operation: 'import' },
  { method: 'GET', pattern: ['_import', ':id'], handler: importStatus },
  { method: 'DELETE', pattern: ['_import', ':id'], handler: importCancel },
  { method: 'GET', pattern: ['_import', ':id', ':file'], handler: importErrors },
  { method: 'GET', pattern: [':type'], handler: searchType, interaction: 'search-type' },
  { method: 'POST', pattern: [':type', '_search'], handler: searchType, interaction: 'search-type' },
  { method: 'POST', pattern: [':type'], handler: create, interaction: 'create', conditional: 'create' },
  { method: 'PUT', pattern: [':type'], handler: conditionalUpdate, conditional: 'update' },
  { method: 'PATCH', pattern: [':type'], handler: conditionalPatch, conditional: 'patch' },
  { method: 'DELETE', pattern: [':type'], handler: conditionalRemove, conditional: 'delete' },
  { method: 'GET', pattern: [':type', '_history'], handler: history, interaction: 'history-type' },
  { method: 'POST', pattern: [':type', ':op'], handler: validate, operation: 'validate' },
  { method: 'GET', pattern: [':type', ':op'], handler: exportPatients, operation: 'export' },
  { method: 'POST', pattern: [':type', ':op'], handler: exportPatients, operation: 'export' },
  { method: 'GET', pattern: [':type', ':id'], handler: read, interaction: 'read' },
  { method: 'PUT', pattern: [':type', ':id'], handler: update, interaction: 'update' },
  { method: 'PATCH', pattern: [':type', ':id'], handler: patch, interaction: 'patch' },
  { method: 'DELETE', pattern: [':type', ':id'], handler: remove, interaction: 'delete' },
  { method: 'GET', pattern: [':type', ':id', '_history'], handler: history, interaction: 'history-instance' },
  { method: 'GET', pattern: [':type', ':id', '_history', ':vid'], handler: vread, interaction: 'vread' },
  { method: 'POST', pattern: [':type', ':id', ':op'], handler: validate, operation: 'validate' },
  { method: 'GET', pattern: [':type', ':id', ':op'], handler: exportGroup, operation: 'export' },
  { method: 'POST', pattern: [':type', ':id', ':op'], handler: exportGroup, operation: 'export' },
  { method: 'GET', pattern: [':type', ':id', ':op'], handler: everything, operation: 'everything' },
  { method: 'POST', pattern: [':type', ':id', ':op'], handler: everything, operation: 'everything' },
  { method: 'GET', pattern: [':type', ':id', ':target'], handler: searchCompartment },
  { method: 'POST', pattern: [':type', ':id', ':target', '_search'], handler: searchCompartment },
];

export interface OperationDef {
  name: string;
  definition: string;
  level: Array<'system' | 'type' | 'instance'>;
  /** Resource types it is defined on; all when absent. */
  types?: string[];
}

export const operations: OperationDef[] = [
  { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', level: ['type', 'instance'] },
  { name: 'reindex', definition: 'http://flint.local/OperationDefinition/reindex', level: ['system'] },
  { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything', level: ['instance'], types: ['Patient'] },
  // FHIR Bulk Data Access 2.0: one operation, $export, at three levels with a definition each.
  { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export', level: ['system'] },
  { name: 'import', definition: 'http://flint.local/OperationDefinition/import', level: ['system'] },
  { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export', level: ['type'], types: ['Patient'] },
  { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export', level: ['instance'], types: ['Group'] },
];

/** The CapabilityStatements this server instantiates (the Bulk Data IG's, for $export). */
export const INSTANTIATES = ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'];
