/**
 * `flint export`: a data dir's resources as NDJSON files in a folder, one per type, as
 * `$export` gives them (the same selection and the same bytes per resource), with a
 * progress bar. Runs on a stopped data dir; beside a running server use $export.
 */
import { mkdirSync, openSync, writeSync, closeSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringifyJson } from '../../../shared/fhir/exact-json';
import { parseExportRequest } from '../bulk/export-request';
import { resolveDataDir } from '../config';
import { loadDefinitions } from '../fhir/definitions';
import { planExport } from '../fhir/operations/export';
import { loadCompartments } from '../search/compartments';
import { reindex } from '../search/custom-params';
import { IndexSearch } from '../search/index-search';
import { openSearchIndex } from '../search/open-search-index';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { DataDirLockedError, openDataDir } from '../store/data-dir';
import { openEncryptedPouch } from '../store/encrypted-pouch';
import { ResourceStore } from '../store/resource-store';
import { parseOptions, UsageError, type Command } from './command';
import { progressBar } from './progress';

const USAGE = `Usage: flint export --out DIR [--data-dir DIR] [--type T1,T2] [--since INSTANT] [--type-filter 'Type?query']...

Writes every current resource of a data dir (or of the types given) to DIR as NDJSON,
one file per type (<Type>.ndjson), as FHIR bulk export does. The files are NOT
encrypted: keep them where PHI may be kept. DIR must be empty or not exist yet.
Stop the server on that data dir first (a running server offers the same as
GET [base]/$export to clients with the exporter role).

Options:
  --out DIR              where the files go (created if need be)
  --type T1,T2           only these resource types
  --since INSTANT        only resources last updated after this instant (2026-01-01T00:00:00Z)
  --type-filter Q        only matches of a search, e.g. 'Observation?category=laboratory' (repeatable)
  --data-dir DIR         data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help             show this help
`;

const OPTIONS = {
  out: { type: 'string' },
  type: { type: 'string' },
  since: { type: 'string' },
  'type-filter': { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the resources of a data dir to NDJSON files, with a progress bar',
  async run(argv) {
    const { values } = parseOptions(argv, OPTIONS, USAGE);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!values.out) throw new UsageError(`--out is required\n\n${USAGE}`);
    const out = resolve(values.out);
    if (existsSync(out) && readdirSync(out).length > 0) {
      process.stderr.write(`flint export: ${out} is not empty; give an empty or new folder\n`);
      return 1;
    }
    const query = new URLSearchParams();
    if (values.type) query.set('_type', values.type);
    if (values.since) query.set('_since', values.since);
    for (const f of values['type-filter'] ?? []) query.append('_typeFilter', f);
    const defs = loadDefinitions();
    // The same checks as a kick-off: a bad type, instant or filter stops here, with its reason.
    let request;
    try {
      request = parseExportRequest({ method: 'GET', path: ['$export'], query, headers: {}, baseUrl: '' }, defs, 'system');
    } catch (e) {
      process.stderr.write(`flint export: ${(e as Error).message}\n`);
      return 2;
    }
    let dataDir;
    try {
      dataDir = await openDataDir(resolveDataDir(values['data-dir']), new KeytarSecretStore());
    } catch (e) {
      if (e instanceof DataDirLockedError) {
        process.stderr.write(`flint export: ${e.message}\nStop the server on this data dir, or use $export through it.\n`);
        return 1;
      }
      throw e;
    }
    try {
      const db = await openEncryptedPouch({ file: dataDir.storeFile('store'), key: dataDir.purposeKey('store') });
      try {
        const searchIndex = openSearchIndex(dataDir, db, defs);
        try {
          if (searchIndex.index.reset) await reindex(searchIndex, db, defs);
          else await searchIndex.indexer.catchUp();
          const services = {
            store: new ResourceStore(db, dataDir.workstationId),
            defs: searchIndex.defs,
            search: new IndexSearch(searchIndex.index),
            compartments: loadCompartments(defs),
          };
          let source;
          try {
            source = await planExport(services, request, undefined);
          } catch (e) {
            process.stderr.write(`flint export: ${(e as Error).message}\n`);
            return 2;
          }
          mkdirSync(out, { recursive: true, mode: 0o700 });
          const files = new Map<string, { fd: number; count: number }>();
          let show: ReturnType<typeof progressBar> | undefined;
          let done = 0;
          const started = Date.now();
          try {
            for await (const batch of source(new AbortController().signal, (p) => (show ??= progressBar('export', 'resources', p.total ?? 0)))) {
              let f = files.get(batch.type);
              if (!f) files.set(batch.type, (f = { fd: openSync(join(out, `${batch.type}.ndjson`), 'wx', 0o600), count: 0 }));
              writeSync(f.fd, batch.resources.map((r) => `${stringifyJson(r)}\n`).join(''));
              f.count += batch.resources.length;
              done += batch.resources.length;
              show?.(done);
            }
          } finally {
            for (const f of files.values()) closeSync(f.fd);
          }
          show?.(done, true);
          const seconds = (Date.now() - started) / 1000;
          for (const [type, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) process.stdout.write(`${type}.ndjson  ${f.count}\n`);
          process.stdout.write(`Exported ${done} resources to ${out} in ${seconds.toFixed(1)} s\n`);
        } finally {
          await searchIndex.close();
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
