/**
 * Opens a data dir's search index and its indexer, for `flint serve` and
 * `flint reindex` alike, so both agree on the file, the key and the definitions.
 */
import type { Definitions } from '../fhir/definitions';
import type { DataDir } from '../store/data-dir';
import { createExtractor } from './extract/extract';
import { openIndexDb, type IndexDb } from './index/index-db';
import { createIndexer, type Indexer } from './index/indexer';

/** Changing what the index extracts or how: bump this and every index is rebuilt. */
export const INDEX_DEFINITIONS = 'r4-medplum-4.5.2/extract-1';

export interface SearchIndex {
  index: IndexDb;
  indexer: Indexer;
  /** Stops the indexer, then closes the index database. */
  close(): Promise<void>;
}

export function openSearchIndex(dataDir: DataDir, db: PouchDB.Database, defs: Definitions): SearchIndex {
  const index = openIndexDb({ file: dataDir.storeFile('index'), key: dataDir.purposeKey('index'), definitionsHash: INDEX_DEFINITIONS });
  const extractor = createExtractor(defs);
  const indexer = createIndexer({ db, index, extract: (r) => extractor.extract(r) });
  return {
    index,
    indexer,
    async close() {
      await indexer.close();
      index.close();
    },
  };
}
