/**
 * The document layout in PouchDB (docs/architecture.md, "Store layout").
 *
 *  r:<type>/<id>            head: the current version of a resource (or its deletion)
 *  h:<type>/<id>/<vid>      one immutable document per version, deletions included
 *
 * Heads are updated in place (their CouchDB revisions are what conflicts show up on
 * after replication); version documents are written once and never changed, so history
 * does not depend on CouchDB revision bodies, which compaction discards.
 */
import type { Resource } from '@medplum/fhirtypes';
import { decimalTextsOf, withDecimalTexts, type DecimalTexts } from '../../../shared/fhir/exact-json';

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Marks documents written by one transaction, so a replica can wait for all of them. */
export interface TxMark {
  id: string;
  size: number;
}

export interface VersionRecord {
  type: string;
  id: string;
  vid: string;
  n: number;
  ts: string;
  method: WriteMethod;
  deleted: boolean;
  resource?: Resource;
  /**
   * The exact text of the resource's numbers where it differs from their JavaScript form
   * (`1.10`), by path (shared/fhir/exact-json.ts). Absent when there is none.
   */
  decimals?: DecimalTexts;
  tx?: TxMark;
}

export interface HeadDoc extends VersionRecord {
  _id: string;
  _rev?: string;
  kind: 'head';
}

export interface VersionDoc extends VersionRecord {
  _id: string;
  kind: 'version';
}

export const headId = (type: string, id: string): string => `r:${type}/${id}`;
export const versionId = (type: string, id: string, vid: string): string => `h:${type}/${id}/${vid}`;
export const HEAD_PREFIX = 'r:';
export const VERSION_PREFIX = 'h:';
/** Upper bound for a key range over one prefix (PouchDB collation). */
export const RANGE_END = '\ufff0';

export function recordOf(doc: HeadDoc | VersionDoc): VersionRecord {
  const { type, id, vid, n, ts, method, deleted, resource, decimals, tx } = doc;
  const r: VersionRecord = { type, id, vid, n, ts, method, deleted };
  if (resource) r.resource = withDecimalTexts(resource, decimals);
  if (decimals) r.decimals = decimals;
  if (tx) r.tx = tx;
  return r;
}

/** A document read from the database: its resource gets its exact number texts back. */
export function withStoredDecimals<T extends VersionRecord>(doc: T): T {
  if (doc.decimals && doc.resource) withDecimalTexts(doc.resource, doc.decimals);
  return doc;
}

/** A record about to be written: the exact texts its resource carries, for the document. */
export function withResource(record: VersionRecord, resource: Resource | undefined): VersionRecord {
  if (!resource) return record;
  record.resource = resource;
  const decimals = decimalTextsOf(resource);
  if (decimals) record.decimals = decimals;
  return record;
}
