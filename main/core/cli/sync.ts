/**
 * `flint sync configure|status|pause|resume|remove|setup-remote` (docs/sync.md). Works
 * whether or not a server runs on the data dir: settings go to sync.json, which a
 * running server watches; the password goes to the OS keychain; status prints what the
 * running server last wrote, or the settings alone when none runs.
 */
import { AccountError } from '../auth/users';
import { resolveDataDir } from '../config';
import { KeytarSecretStore } from '../secrets/keytar-secret-store';
import { openDataDir } from '../store/data-dir';
import { RemoteError, checkRemoteUrl, databaseName, siblingDatabase } from '../sync/remote';
import { setupRemote } from '../sync/setup-remote';
import { auditRemoteOf, readSyncSettings } from '../sync/sync-config';
import { configureSync, planSync, readableCaFile, removeSync, setSyncPaused, type SyncSetupInput } from '../sync/sync-setup';
import { liveStatus, readStatusFile } from '../sync/status-file';
import { MESSAGES } from '../sync/sync-status';
import { UsageError, type Command } from './command';
import { parseAction, readSecret } from './with-accounts';

const USAGE = `Usage:
  flint sync configure --remote URL --username USER [--ca-file PEM] [--audit-remote URL]
                       [--max-retry-delay SECONDS] [--data-dir DIR]
  flint sync status|pause|resume|remove [--data-dir DIR]
  flint sync setup-remote --remote URL --username ADMIN [--member USER]... [--audit-remote URL]
                          [--ca-file PEM]

configure     sync this data dir with the clinic database at URL (e.g.
              https://couch.clinic.example:6984/clinic). The password is read from
              stdin and kept in the OS keychain. A running server picks it up.
status        print the sync status as JSON
pause/resume  stop and restart sync (local work goes on either way)
remove        stop syncing: forget the settings, the password and the inbox
setup-remote  as a server admin (password on stdin): create the clinic database and
              its audit database (default URL-audit), restrict them to the role
              flint-workstation and the --member users, install their validation

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  remote: { type: 'string' },
  username: { type: 'string' },
  'ca-file': { type: 'string' },
  'audit-remote': { type: 'string' },
  'max-retry-delay': { type: 'string' },
  member: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Exclude<ReturnType<typeof parseAction<typeof OPTIONS>>, { exit: number }>['values'];

export const syncCommand: Command = {
  name: 'sync',
  summary: 'set up, inspect, pause or remove sync with the central server',
  async run(argv) {
    try {
      const parsed = parseAction(argv, OPTIONS, USAGE);
      if ('exit' in parsed) return parsed.exit;
      const { values, action } = parsed;
      switch (action) {
        case 'configure':
          return await configure(values);
        case 'status':
          return status(values);
        case 'pause':
        case 'resume':
          return setPaused(values, action === 'pause');
        case 'remove':
          return await remove(values);
        case 'setup-remote':
          return await setup(values);
        default:
          throw new UsageError(`unknown action "${action}"\n\n${USAGE}`);
      }
    } catch (e) {
      if (e instanceof UsageError || e instanceof RangeError || e instanceof AccountError) {
        process.stderr.write(`flint sync: ${e.message}\n`);
        return 2;
      }
      if (e instanceof RemoteError) {
        process.stderr.write(`flint sync: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};

function required(values: Values, name: 'remote' | 'username'): string {
  const v = values[name];
  if (!v) throw new UsageError(`--${name} is required\n\n${USAGE}`);
  return v;
}

async function password(prompt: string): Promise<string> {
  const pw = (await readSecret(prompt)).replace(/\r?\n$/, '');
  if (pw === '') throw new UsageError('no password given on stdin');
  return pw;
}

async function configure(values: Values): Promise<number> {
  const input: SyncSetupInput = { remote: required(values, 'remote'), username: required(values, 'username') };
  if (values['audit-remote']) input.auditRemote = values['audit-remote'];
  if (values['ca-file']) input.caFile = values['ca-file'];
  if (values['max-retry-delay'] !== undefined) input.maxRetryDelay = Number(values['max-retry-delay']);
  const plan = planSync(input); // before anything is written: a refused configure changes nothing
  const { settings } = plan;
  const pw = await password(`Password for ${settings.username} at ${new URL(settings.remote).origin}: `);
  const secrets = new KeytarSecretStore();
  const dataDir = await openDataDir(resolveDataDir(values['data-dir']), secrets, { shared: true });
  try {
    await configureSync(dataDir, secrets, plan, pw);
    process.stdout.write(`Sync configured: ${settings.remote} as ${settings.username} (audit: ${auditRemoteOf(settings)})\n`);
    return 0;
  } finally {
    await dataDir.release();
  }
}

function status(values: Values): number {
  const dir = resolveDataDir(values['data-dir']);
  const settings = readSyncSettings(dir);
  const running = liveStatus(dir);
  if (running) {
    process.stdout.write(`${JSON.stringify({ ...running, server: 'running' }, null, 2)}\n`);
    return 0;
  }
  const written = readStatusFile(dir);
  const out: Record<string, unknown> = {
    configured: settings !== undefined,
    state: !settings ? 'offline' : settings.paused ? 'paused' : 'offline',
    server: 'not running',
    message: !settings ? MESSAGES.notConfigured : settings.paused ? MESSAGES.paused : 'The Flint server on this computer is not running: nothing is being sent or received.',
  };
  if (settings) {
    out['remote'] = settings.remote;
    out['auditRemote'] = auditRemoteOf(settings);
    out['username'] = settings.username;
  }
  if (written?.lastSync) out['lastSync'] = written.lastSync;
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

function setPaused(values: Values, paused: boolean): number {
  if (!setSyncPaused(resolveDataDir(values['data-dir']), paused)) {
    process.stderr.write('flint sync: sync is not configured on this data dir (flint sync configure)\n');
    return 1;
  }
  process.stdout.write(paused ? 'Sync paused.\n' : 'Sync resumed.\n');
  return 0;
}

async function remove(values: Values): Promise<number> {
  const secrets = new KeytarSecretStore();
  const dataDir = await openDataDir(resolveDataDir(values['data-dir']), secrets, { shared: true });
  try {
    // A running server keeps the inbox open until it sees sync.json go.
    const had = await removeSync(dataDir, secrets, liveStatus(dataDir.dir) ? {} : { inboxFile: dataDir.storeFile('inbox') });
    process.stdout.write(had ? 'Sync removed: settings and password deleted.\n' : 'Sync was not configured.\n');
    return 0;
  } finally {
    await dataDir.release();
  }
}

async function setup(values: Values): Promise<number> {
  const remote = checkRemoteUrl(required(values, 'remote')).toString().replace(/\/+$/, '');
  const username = required(values, 'username');
  const audit = values['audit-remote']
    ? checkRemoteUrl(values['audit-remote']).toString().replace(/\/+$/, '')
    : siblingDatabase(remote, `${databaseName(remote)}-audit`);
  const pw = await password(`Server admin password for ${username}: `);
  const admin = { url: remote, username, password: pw, ...(values['ca-file'] ? { caFile: readableCaFile(values['ca-file']) } : {}) };
  const r = await setupRemote(admin, remote, audit, values.member ?? []);
  for (const u of r.created) process.stdout.write(`created ${u}\n`);
  for (const u of r.security) process.stdout.write(`security set on ${u}\n`);
  for (const u of r.design) process.stdout.write(`validation installed: ${u}\n`);
  process.stdout.write('Remote ready.\n');
  return 0;
}
