/** `flint reindex`: rebuilds a data dir's search index from its store, with progress. */
import { resolveDataDir } from '../config';
import { loadDefinitions } from '../fhir/definitions';
import { reindex } from '../search/custom-params';
import { openSearchIndex } from '../search/open-search-index';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { DataDirLockedError, openDataDir } from '../store/data-dir';
import { openEncryptedPouch, updateSeqOf } from '../store/encrypted-pouch';
import { DATA_DIR_OPTION, parseOptions, type Command } from './command';
import { progressBar } from './progress';

const USAGE = `Usage: flint reindex [--data-dir DIR]

Rebuilds the search index of a data dir from its store (the index is derived data:
nothing is lost by rebuilding it), taking in every active custom SearchParameter
stored there. Shows progress; stop the server on that data dir first, as a data dir
is open in one process at a time (a running server does the same with POST
[base]/$reindex).

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'rebuild the search index from the store, with a progress bar',
  async run(argv) {
    const { values } = parseOptions(argv, DATA_DIR_OPTION, USAGE);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    let dataDir;
    try {
      dataDir = await openDataDir(resolveDataDir(values['data-dir']), new KeytarSecretStore());
    } catch (e) {
      if (e instanceof DataDirLockedError) {
        process.stderr.write(`flint reindex: ${e.message}\nStop the server on this data dir, then run flint reindex again.\n`);
        return 1;
      }
      throw e;
    }
    try {
      const db = await openEncryptedPouch({ file: dataDir.storeFile('store'), key: dataDir.purposeKey('store') });
      try {
        const defs = loadDefinitions();
        const search = openSearchIndex(dataDir, db, defs);
        try {
          const total = Number(await updateSeqOf(db)) || 0;
          const show = progressBar('reindex', 'changes', total);
          const started = Date.now();
          const { processed, params, skipped } = await reindex(search, db, defs, show);
          show(total, true);
          const seconds = (Date.now() - started) / 1000;
          process.stdout.write(`Reindexed ${processed} changes in ${seconds.toFixed(1)} s\n`);
          process.stdout.write(`Custom search parameters in use: ${params.map((p) => p.code).join(', ') || 'none'}\n`);
          for (const s of skipped) process.stdout.write(`Not used: SearchParameter/${s.id}: ${s.reason}\n`);
        } finally {
          await search.close();
        }
      } finally {
        await db.close();
      }
    } finally {
      await dataDir.release();
    }
    return 0;
  },
};
