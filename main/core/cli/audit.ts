/**
 * `flint audit verify|export`: checks a data dir's audit chain, and prints a range of its
 * AuditEvents as NDJSON. Both run beside a server on the same data dir: the data dir is
 * opened without its lock and audit.db only read (SQLite's WAL lets a reader in).
 */
import { AuditChainError, openAuditLogOf, type AuditLog } from '../audit/audit-log';
import { resolveDataDir } from '../config';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { openDataDir } from '../store/data-dir';
import { UsageError, type Command } from './command';
import { parseWithPositionals } from './with-accounts';

const USAGE = `Usage:
  flint audit verify [--data-dir DIR]
  flint audit export [--since ISO] [--until ISO] [--data-dir DIR]

verify walks the audit log's hash chain and compares its end with the chain head
kept in the OS keychain. Exit 0 and "OK: N events, chain intact", or exit 1 and
"BROKEN at event SEQ: PROBLEM" for the first changed, missing or reordered event.

export prints the AuditEvents recorded from --since (inclusive) until --until
(exclusive) to stdout as NDJSON, one event per line, in the order they were
written. ISO is a date or date-time, e.g. 2026-03-01 or 2026-03-01T08:00:00Z.
The output holds PHI: write it only where PHI may be kept.

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the audit log hash chain, export AuditEvents as NDJSON',
  async run(argv) {
    try {
      const { values, positionals } = parseWithPositionals(argv, OPTIONS, USAGE);
      const [action, ...extra] = positionals;
      if (values.help || !action) {
        process.stdout.write(USAGE);
        return values.help ? 0 : 2;
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\n\n${USAGE}`);
      if (action === 'verify') {
        if (values.since || values.until) throw new UsageError(`--since and --until belong to export\n\n${USAGE}`);
        return await withAuditLog(values['data-dir'], verify);
      }
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
  const result = await log.verify();
  if (result.ok) {
    let backlog: number;
    try {
      backlog = log.journalBacklog();
    } catch (e) {
      if (!(e instanceof AuditChainError)) throw e;
      process.stdout.write(`BROKEN journal: ${e.message}\n`);
      return 1;
    }
    const pending = backlog > 0 ? `; ${backlog} more in the journal, not chained yet (chained by the server that owns it, now or when it next starts)` : '';
    process.stdout.write(`OK: ${result.events} events, chain intact${pending}\n`);
    return 0;
  }
  process.stdout.write(`BROKEN at event ${result.seq}: ${result.problem}\n`);
  return 1;
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
