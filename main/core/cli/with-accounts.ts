/**
 * Opens a data dir's accounts database for `flint user|role|app|token`, whether or not a
 * server is running on the data dir (auth.db is shared through SQLite's locking; the
 * store is not touched), and reads secrets from stdin, never from arguments.
 */
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openAccounts, type Accounts } from '../auth/accounts';
import { auditedAccounts } from '../auth/audited-accounts';
import { openAuditLogOf } from '../audit/audit-log';
import { AuditTrail } from '../audit/audit-trail';
import { AccountError } from '../auth/users';
import { resolveDataDir } from '../config';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { openDataDir } from '../store/data-dir';
import { UsageError } from './command';

export async function withAccounts<T>(dataDirOption: string | undefined, fn: (accounts: Accounts) => Promise<T>): Promise<T> {
  const secrets = new KeytarSecretStore();
  const dataDir = await openDataDir(resolveDataDir(dataDirOption), secrets, { shared: true });
  try {
    // What the command changes (users, roles, apps, tokens) goes to the audit trail too.
    const log = await openAuditLogOf(dataDir, secrets);
    const raw = openAccounts(dataDir);
    try {
      return await fn(auditedAccounts(raw, new AuditTrail(log, dataDir.workstationId), () => process.stderr.write('flint: an audit record could not be written\n')));
    } finally {
      raw.close();
      await log.close();
    }
  } finally {
    await dataDir.release();
  }
}

/** parseArgs with positionals, and a usage error instead of a stack trace. */
export function parseWithPositionals<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

/**
 * `flint <command> ACTION [options]`: the options and the action, or the exit code when
 * there is nothing to run (--help: usage and 0; no action: usage and 2). Extra positional
 * arguments are a usage error.
 */
export function parseAction<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
): { exit: number } | { values: ReturnType<typeof parseWithPositionals<T>>['values']; action: string } {
  const { values, positionals } = parseWithPositionals(argv, options, usage);
  const [action, ...extra] = positionals;
  const help = (values as { help?: boolean }).help === true;
  if (help || !action) {
    process.stdout.write(usage);
    return { exit: help ? 0 : 2 };
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\n\n${usage}`);
  return { values, action };
}

/** A password from the terminal (not echoed) or the first line of stdin (scripts). */
export async function readSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    let value = '';
    return new Promise((resolve, reject) => {
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.setRawMode(false);
            stdin.off('data', onData);
            stdin.pause();
            process.stderr.write('\n');
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            stdin.setRawMode(false);
            reject(new AccountError('cancelled'));
            return;
          }
          value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  }
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new AccountError('no password on stdin');
}

/** Runs a command body, printing account errors as one line (exit 1) instead of a stack. */
export async function reportAccountErrors(name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AccountError) {
      process.stderr.write(`flint ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
