/**
 * Opens a data dir's search index and its indexer, for `flint serve` and
 * `flint reindex` alike, so both agree on the file, the key and the definitions.
 */
import { withCustomParams, type Definitions } from '../fhir/definitions';
import type { DataDir } from '../store/data-dir';
import { createExtractor, type Extractor } from './extract/extract';
import { openIndexDb, type IndexDb } from './index/index-db';
import { createIndexer, type Indexer } from './index/indexer';

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

export function openSearchIndex(dataDir: DataDir, db: PouchDB.Database, base: Definitions, onHead?: (type: string, id: string) => void): SearchIndex {
  const index = openIndexDb({ file: dataDir.storeFile('index'), key: dataDir.purposeKey('index'), definitionsHash: INDEX_DEFINITIONS });
  const recorded = index.customParams();
  let defs = withCustomParams(base, Array.isArray(recorded) ? recorded : []);
  let extractor: Extractor = createExtractor(defs);
  const indexer = createIndexer({ db, index, extract: (r) => extractor.extract(r), ...(onHead ? { onHead } : {}) });
  return {
    index,
    indexer,
    get defs() {
      return defs;
    },
    useDefinitions(next) {
      defs = next;
      extractor = createExtractor(next);
    },
    async close() {
      await indexer.close();
      index.close();
    },
  };
}
