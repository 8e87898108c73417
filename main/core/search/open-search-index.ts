/**
 * Opens a data dir's search index and its indexer, for `flint serve` and
 * `flint reindex` alike, so both agree on the file, the key and the definitions.
 */
import { withCustomParams, type Definitions } from '../fhir/definitions';
import type { DataDir } from '../store/data-dir';
import { createExtractor, type Extractor } from './extract/extract';
import type { IndexRows } from './extract/rows';
import { openIndexDb, type IndexDb } from './index/index-db';
import { createIndexer, type Indexer } from './index/indexer';
import { indexWriterThread } from './index/index-writer';

/** Changing what the index extracts or how: bump this and every index is rebuilt. */
export const INDEX_DEFINITIONS = 'r4-medplum-4.5.2/extract-1';

export interface SearchIndex {
  index: IndexDb;
  indexer: Indexer;
  /** The definitions rows are extracted with: the official ones plus the recorded custom parameters. */
  readonly defs: Definitions;
  /** Extracts with `defs` from now on (custom parameters: search/custom-params.ts). */
  useDefinitions(defs: Definitions): void;
  /** Stops the indexer, then closes the index database. */
  close(): Promise<void>;
}

/**
 * Rows extracted elsewhere with the official definitions (the sync's receive worker), by
 * type, id and version id; used only while no custom search parameter is in force.
 */
export type PrecomputedRows = (type: string, id: string, vid: string) => IndexRows | undefined;

export function openSearchIndex(
  dataDir: DataDir,
  db: PouchDB.Database,
  base: Definitions,
  onHead?: (type: string, id: string) => void,
  precomputed?: PrecomputedRows,
): SearchIndex {
  const index = openIndexDb({ file: dataDir.storeFile('index'), key: dataDir.purposeKey('index'), definitionsHash: INDEX_DEFINITIONS });
  const recorded = index.customParams();
  let defs = withCustomParams(base, Array.isArray(recorded) ? recorded : []);
  let official = defs === base; // withCustomParams returns base itself when there are none
  let extractor: Extractor = createExtractor(defs);
  const extract = (r: Parameters<Extractor['extract']>[0]): IndexRows => {
    const res = r as { resourceType?: unknown; id?: unknown; meta?: { versionId?: unknown } };
    if (official && precomputed && typeof res.resourceType === 'string' && typeof res.id === 'string' && typeof res.meta?.versionId === 'string') {
      const rows = precomputed(res.resourceType, res.id, res.meta.versionId);
      if (rows) return rows;
    }
    return extractor.extract(r);
  };
  // Large pages (a sync's bulk) are written by a thread of their own (index-writer.ts).
  const writer = indexWriterThread({ file: index.file, key: dataDir.purposeKey('index'), definitionsHash: INDEX_DEFINITIONS });
  const indexer = createIndexer({ db, index, extract, ...(onHead ? { onHead } : {}), ...(writer ? { writer } : {}) });
  return {
    index,
    indexer,
    get defs() {
      return defs;
    },
    useDefinitions(next) {
      defs = next;
      official = next === base;
      extractor = createExtractor(next);
    },
    async close() {
      await indexer.close();
      await writer?.close();
      index.close();
    },
  };
}
