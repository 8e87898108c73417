/**
 * AuditEvents as the FHIR read and search handlers see them: a read-only store over the
 * audit log, and a search index derived from it. The index (`audit-index.db`, SQLCipher
 * under the `audit` purpose key's own derivation) is caught up from the log's sequence
 * before every search, not on the write path, so that recording stays cheap.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Definitions } from '../fhir/definitions';
import { createExtractor } from '../search/extract/extract';
import { openIndexDb, type IndexChange, type IndexDb } from '../search/index/index-db';
import type { HeadDoc, VersionRecord } from '../store/documents';
import { headId } from '../store/documents';
import type { StoredEvent } from './types';

/** The part of the audit log this needs. */
export interface AuditSource {
  get(id: string): StoredEvent | undefined | Promise<StoredEvent | undefined>;
  range(opts: { afterSeq?: number; limit: number }): StoredEvent[] | Promise<StoredEvent[]>;
}

const PAGE = 500;

/** A stored event as a head document (AuditEvents have one version and are never deleted). */
export function asHead(e: StoredEvent): HeadDoc {
  const ts = e.event.recorded ?? new Date(0).toISOString();
  const resource: AuditEvent = { ...e.event, id: e.id, meta: { ...e.event.meta, versionId: '1', lastUpdated: ts } };
  return { _id: headId('AuditEvent', e.id), kind: 'head', type: 'AuditEvent', id: e.id, vid: '1', n: 1, ts, method: 'POST', deleted: false, resource };
}

/** The store subset the read, vread, history and search handlers use. */
export class AuditReadStore {
  constructor(private readonly log: AuditSource) {}

  async head(type: string, id: string): Promise<HeadDoc | undefined> {
    if (type !== 'AuditEvent') return undefined;
    const e = await this.log.get(id);
    return e ? asHead(e) : undefined;
  }

  async heads(keys: Array<{ type: string; id: string }>): Promise<Map<string, HeadDoc>> {
    const out = new Map<string, HeadDoc>();
    for (const k of keys) {
      const h = await this.head(k.type, k.id);
      if (h) out.set(`${k.type}/${k.id}`, h);
    }
    return out;
  }

  async version(type: string, id: string, vid: string): Promise<VersionRecord | undefined> {
    return vid === '1' ? this.head(type, id) : undefined;
  }

  async history(scope: { type?: string; id?: string }): Promise<VersionRecord[]> {
    if (scope.type && scope.type !== 'AuditEvent') return [];
    if (scope.id) {
      const h = await this.head('AuditEvent', scope.id);
      return h ? [h] : [];
    }
    const out: VersionRecord[] = [];
    for (let after = 0; ; ) {
      const page = await this.log.range({ afterSeq: after, limit: PAGE });
      out.push(...page.map(asHead));
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.seq;
    }
    return out.reverse();
  }
}

export interface AuditIndex {
  index: IndexDb;
  /** Indexes every event after the index's checkpoint (a seq). */
  catchUp(): Promise<void>;
  close(): void;
}

export function openAuditIndex(file: string, key: Buffer, log: AuditSource, defs: Definitions): AuditIndex {
  const index = openIndexDb({ file, key, definitionsHash: 'audit/1' });
  const extractor = createExtractor(defs);
  // Runs are serialized, and each call gets a run that starts after it: it sees every
  // event appended before it was made.
  let tail: Promise<void> = Promise.resolve();
  const run = async () => {
    for (;;) {
      const after = Number(index.checkpoint()) || 0;
      const page = await log.range({ afterSeq: after, limit: PAGE });
      if (page.length === 0) return;
      const changes: IndexChange[] = page.map((e) => {
        const head = asHead(e);
        return { type: 'AuditEvent', id: e.id, vid: '1', lastUpdated: Date.parse(head.ts), rows: extractor.extract(head.resource) };
      });
      index.applyBatch(changes, page[page.length - 1]!.seq);
      if (page.length < PAGE) return;
    }
  };
  return {
    index,
    catchUp() {
      const next = tail.then(run);
      tail = next.catch(() => undefined);
      return next;
    },
    close: () => index.close(),
  };
}
