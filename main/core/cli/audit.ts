/**
 * `flint audit verify|export`: checks a data dir's audit chain, and prints a range of its
 * AuditEvents as NDJSON. Both run beside a server on the same data dir: the data dir is
 * opened without its lock and audit.db only read (SQLite's WAL lets a reader in).
 * `flint audit verify --remote URL` checks the central audit database instead (every
 * workstation's pushed chain, sync/audit-remote-verify.ts); no data dir is needed then.
 */
import { readFileSync } from 'node:fs';
import { openAuditLogOf, type AuditLog } from '../audit/audit-log';
import { verifyAuditTrail } from '../audit/audit-verify';
import { resolveDataDir } from '../config';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { openDataDir } from '../store/data-dir';
import { verifyRemoteAudit } from '../sync/audit-remote-verify';
import { checkRemoteUrl, RemoteError, type RemoteEndpoint } from '../sync/remote';
import { UsageError, type Command } from './command';
import { parseAction, readSecret } from './with-accounts';

const USAGE = `Usage:
  flint audit verify [--data-dir DIR]
  flint audit verify --remote URL --username USER [--ca-file PEM]   (password on stdin)
  flint audit export [--since ISO] [--until ISO] [--data-dir DIR]

verify walks the audit log's hash chain and compares its end with the chain head
kept in the OS keychain. Exit 0 and "OK: N events, chain intact", or exit 1 and
"BROKEN at event SEQ: PROBLEM" for the first changed, missing or reordered event.

verify --remote checks the central audit database at URL (e.g.
https://couch.clinic.example:6984/clinic-audit), where every workstation pushes
its events, as USER (an admin or a member of that database; the password is read
from the terminal or the first line of stdin). Each workstation's chain is
checked on its own: seqs from 1 without gaps, links, hashes, and documents still
as pushed. One line per workstation: "OK WS: N events, chain intact" or
"BROKEN WS: PROBLEM; PROBLEM...". Exit 0 if all are intact, 1 if any is broken
or the server cannot be reached or refuses USER.

export prints the AuditEvents recorded from --since (inclusive) until --until
(exclusive) to stdout as NDJSON, one event per line, in the order they were
written. ISO is a date or date-time, e.g. 2026-03-01 or 2026-03-01T08:00:00Z.
The output holds PHI: write it only where PHI may be kept.

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  --remote URL     verify: the central audit database instead of a data dir
  --username USER  with --remote: the server user
  --ca-file PEM    with --remote: a CA to trust besides the system's
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  remote: { type: 'string' },
  username: { type: 'string' },
  'ca-file': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the audit log hash chain, export AuditEvents as NDJSON',
  async run(argv) {
    try {
      const parsed = parseAction(argv, OPTIONS, USAGE);
      if ('exit' in parsed) return parsed.exit;
      const { values, action } = parsed;
      const remoteOnly = (['username', 'ca-file'] as const).find((k) => values[k] !== undefined);
      if (values.remote === undefined && remoteOnly) throw new UsageError(`--${remoteOnly} belongs to verify --remote\n\n${USAGE}`);
      if (action === 'verify') {
        if (values.since || values.until) throw new UsageError(`--since and --until belong to export\n\n${USAGE}`);
        if (values.remote !== undefined) return await verifyRemote(values.remote, values.username, values['ca-file'], values['data-dir']);
        return await withAuditLog(values['data-dir'], verify);
      }
      if (values.remote !== undefined) throw new UsageError(`--remote belongs to verify\n\n${USAGE}`);
      if (action === 'export') {
        const since = parseInstant('--since', values.since);
        const until = parseInstant('--until', values.until);
        return await withAuditLog(values['data-dir'], (log) => exportRange(log, since, until));
      }
      throw new UsageError(`unknown action "${action}"\n\n${USAGE}`);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`flint audit: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
  },
};

async function withAuditLog(dataDirOption: string | undefined, fn: (log: AuditLog) => Promise<number>): Promise<number> {
  const secrets = new KeytarSecretStore();
  const dataDir = await openDataDir(resolveDataDir(dataDirOption), secrets, { shared: true });
  try {
    const log = await openAuditLogOf(dataDir, secrets, { readOnly: true, journaled: true });
    try {
      return await fn(log);
    } finally {
      await log.close();
    }
  } finally {
    await dataDir.release();
  }
}

async function verify(log: AuditLog): Promise<number> {
  const v = await verifyAuditTrail(log);
  if (v.ok) {
    const pending = v.journalPending > 0 ? `; ${v.journalPending} more in the journal, not chained yet (chained by the server that owns it, now or when it next starts)` : '';
    process.stdout.write(`OK: ${v.events} events, chain intact${pending}\n`);
    return 0;
  }
  process.stdout.write(v.where === 'journal' ? `BROKEN journal: ${v.problem}\n` : `BROKEN at event ${v.seq}: ${v.problem}\n`);
  return 1;
}

async function verifyRemote(url: string, username: string | undefined, caFile: string | undefined, dataDir: string | undefined): Promise<number> {
  if (dataDir !== undefined) throw new UsageError(`verify --remote reads no data dir: drop --data-dir\n\n${USAGE}`);
  if (!username) throw new UsageError(`verify --remote needs --username\n\n${USAGE}`);
  try {
    checkRemoteUrl(url);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--remote: ${e.message}\n\n${USAGE}`);
    throw e;
  }
  if (caFile !== undefined) {
    try {
      readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--ca-file ${caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})\n\n${USAGE}`);
    }
  }
  let password: string;
  try {
    password = await readSecret(`Password for ${username}: `);
  } catch {
    throw new UsageError('no password on stdin (give it on the first line)');
  }
  const endpoint: RemoteEndpoint = { url, username, password: password.replace(/\r?\n$/, '') };
  if (caFile !== undefined) endpoint.caFile = caFile;
  let report;
  try {
    report = await verifyRemoteAudit(endpoint, url);
  } catch (e) {
    if (!(e instanceof RemoteError)) throw e;
    process.stderr.write(`flint audit: ${remoteProblem(e, url, username)}\n`);
    return 1;
  }
  if (report.design !== 'installed') {
    const what = report.design === 'missing' ? 'has no _design/flint-audit' : "has a _design/flint-audit that is not this Flint's";
    process.stderr.write(`flint audit: warning: the audit database ${what}: nothing on the server refuses edits of its events\n`);
  }
  let broken = false;
  for (const ws of report.workstations) {
    if (ws.problems.length === 0) {
      process.stdout.write(`OK ${ws.workstation}: ${ws.events} events, chain intact\n`);
    } else {
      broken = true;
      process.stdout.write(`BROKEN ${ws.workstation}: ${ws.problems.join('; ')}\n`);
    }
  }
  if (report.strays.length > 0) {
    broken = true;
    const shown = report.strays.slice(0, 10).join(', ');
    process.stdout.write(`BROKEN: ${report.strays.length} document(s) that are not audit events: ${shown}${report.strays.length > 10 ? ', ...' : ''}\n`);
  }
  if (report.workstations.length === 0 && !broken) process.stdout.write('OK: the audit database holds no events\n');
  return broken ? 1 : 0;
}

/** Why a remote verify could not run, in words an administrator can act on. */
function remoteProblem(e: RemoteError, url: string, username: string): string {
  const db = new URL(url);
  switch (e.status) {
    case 0:
      return e.message;
    case 401:
      return `the server refused the credentials of ${username}, or ${username} may not read ${db.pathname} (401${e.reason ? `: ${e.reason}` : ''})`;
    case 403:
      return `${username} may not read ${db.pathname} (403${e.reason ? `: ${e.reason}` : ''})`;
    case 404:
      return `there is no database at ${db.origin}${db.pathname} (404)`;
    default:
      return e.message;
  }
}

async function exportRange(log: AuditLog, since: Date | undefined, until: Date | undefined): Promise<number> {
  const range: { since?: Date; until?: Date } = {};
  if (since) range.since = since;
  if (until) range.until = until;
  for (const stored of log.scan(range)) {
    // Respect a slow reader (a pipe to gzip, ssh): wait for drain instead of buffering it all.
    if (!process.stdout.write(`${JSON.stringify(stored.event)}\n`)) {
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    }
  }
  return 0;
}

function parseInstant(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // A date (YYYY-MM-DD) or a date-time with a zone: a bare local time would depend on the machine.
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value);
  const ms = Date.parse(value);
  if (!ok || !Number.isFinite(ms)) throw new UsageError(`${flag} ${value} is not an ISO date or date-time with a zone\n\n${USAGE}`);
  return new Date(ms);
}
