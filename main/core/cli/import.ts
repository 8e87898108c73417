/**
 * `flint import`: NDJSON files, FHIR Bundles and folders of them (Synthea output
 * included) into a data dir, through `$import` (fhir/operations/import.ts): through the
 * server that runs on the data dir, or, when none does, through one started here for the
 * import on a free loopback port. Either way the resources are validated, audited,
 * indexed and synced like any write, and an import interrupted at any point can simply be
 * run again (what is already stored is left alone).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWorkstation, type Workstation } from '../app';
import { CLI_CLIENT_ID, CLI_SUBJECT } from '../auth/principal';
import { resolveDataDir } from '../config';
import { runningServer } from '../store/server-file';
import type { Command } from './command';
import { parseWithPositionals, withAccounts } from './with-accounts';

const USAGE = `Usage: flint import [--data-dir DIR] [--type TYPE] PATH...

Imports NDJSON files (one resource per line), FHIR Bundles (transaction and batch
Bundles whole, collection entries one by one) and folders of them, Synthea output
folders included, into a data dir. Each resource keeps its id. A line that is not a
valid resource is reported with its file and line, and the rest goes on. A resource
already stored with the same content is left alone, so an interrupted import can simply
be run again.

It works through the server running on the data dir, or starts one for the import
when none runs.

Options:
  --type TYPE      refuse lines of any other resource type
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help

Exit status: 0 all imported, 1 some lines refused or the import failed, 2 usage.
`;

const OPTIONS = { 'data-dir': { type: 'string' }, type: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
/** How many refused lines are printed (all of them are in the server's error file). */
const SHOWN_ERRORS = 20;

export const importCommand: Command = {
  name: 'import',
  summary: 'import NDJSON, Bundles and Synthea folders into a data dir, with progress',
  async run(argv) {
    const { values, positionals } = parseWithPositionals(argv, OPTIONS, USAGE);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length === 0) {
      process.stderr.write(`flint import: give at least one file or folder\n\n${USAGE}`);
      return 2;
    }
    const paths = positionals.map((p) => resolve(p));
    const missing = paths.filter((p) => !existsSync(p));
    if (missing.length > 0) {
      process.stderr.write(`flint import: no such file or folder: ${missing.join(', ')}\n`);
      return 2;
    }
    const dataDir = resolveDataDir(values['data-dir']);
    let started: Workstation | undefined;
    let baseUrl = runningServer(dataDir)?.baseUrl;
    if (!baseUrl) {
      // No server: one for this import only, on a free port, saying nothing but faults.
      started = await startWorkstation({ dataDir, port: 0, log: (line) => line.startsWith('[fault]') && process.stderr.write(`${line}\n`) });
      baseUrl = started.baseUrl;
    } else {
      process.stdout.write(`Importing through the server at ${baseUrl}\n`);
    }
    try {
      const token = await withAccounts(dataDir, async ({ tokens }) => (await tokens.issueAccess({ sub: CLI_SUBJECT, client_id: CLI_CLIENT_ID, scope: 'user/*.cruds' }, 24 * 3600)).token);
      return await runImport(baseUrl, token, paths, values.type);
    } finally {
      await started?.close();
    }
  },
};

async function runImport(baseUrl: string, token: string, paths: string[], type: string | undefined): Promise<number> {
  const auth = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
  const body = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
      { name: 'mode', valueString: 'IncrementalLoad' },
      ...paths.map((p) => ({ name: 'input', part: [...(type ? [{ name: 'type', valueString: type }] : []), { name: 'url', valueUri: pathToFileURL(p).href }] })),
    ],
  };
  const kick = await fetch(`${baseUrl}/$import`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/fhir+json', prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  if (kick.status !== 202) {
    process.stderr.write(`flint import: ${await reason(kick)}\n`);
    return kick.status >= 500 ? 1 : 2;
  }
  const statusUrl = kick.headers.get('content-location')!;
  const tty = process.stdout.isTTY === true;
  let last = 0;
  for (;;) {
    const r = await fetch(statusUrl, { headers: auth });
    if (r.status === 202) {
      const progress = r.headers.get('x-progress') ?? '';
      if (tty) process.stdout.write(`\r${progress}`);
      else if (Date.now() - last > 1000) {
        last = Date.now();
        process.stdout.write(`import: ${progress}\n`);
      }
      await new Promise((ok) => setTimeout(ok, 250));
      continue;
    }
    if (tty) process.stdout.write('\n');
    if (r.status !== 200) {
      process.stderr.write(`flint import: ${await reason(r)}\n`);
      return 1;
    }
    const summary = (await r.json()) as { output: Array<{ type: string; count: number }>; error: Array<{ count: number; url: string }> };
    const count = (t: string) => summary.output.find((o) => o.type === t)?.count ?? 0;
    const refused = summary.error[0]?.count ?? 0;
    process.stdout.write(`Imported: ${count('written')} written, ${count('unchanged')} already stored, ${refused} refused\n`);
    if (refused === 0) return 0;
    const errors = await fetch(summary.error[0]!.url, { headers: { ...auth, accept: 'application/fhir+ndjson' } });
    const lines = (await errors.text()).split('\n').filter(Boolean);
    for (const line of lines.slice(0, SHOWN_ERRORS)) {
      const o = JSON.parse(line) as { issue?: Array<{ diagnostics?: string }> };
      process.stdout.write(`  refused ${o.issue?.map((i) => i.diagnostics).join('; ') ?? ''}\n`);
    }
    if (lines.length > SHOWN_ERRORS) process.stdout.write(`  ... and ${lines.length - SHOWN_ERRORS} more\n`);
    return 1;
  }
}

/** An OperationOutcome's words (they never quote the data). */
async function reason(res: Response): Promise<string> {
  try {
    const o = (await res.json()) as { issue?: Array<{ diagnostics?: string }> };
    return o.issue?.map((i) => i.diagnostics).join('; ') || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}
