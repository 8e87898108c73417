/**
 * `flint token create`: a bearer token for scripts on this computer, signed with the data
 * dir's keychain-held key. It acts as the workstation's administrator, narrowed by
 * --scope; whoever can read this OS account's keychain can do this anyway.
 */
import { CLI_CLIENT_ID, CLI_SUBJECT } from '../auth/principal';
import { parseScopes } from '../auth/scopes';
import { AccountError } from '../auth/users';
import type { Command } from './command';
import { parseWithPositionals, reportAccountErrors, withAccounts } from './with-accounts';

const USAGE = `Usage: flint token create --scope "SCOPES" [--user USERNAME] [--ttl 1h] [--patient ID]

Prints a bearer token for the FHIR API of a data dir (running server or not), e.g.
  flint token create --scope "user/*.cruds" --ttl 8h
  curl -H "Authorization: Bearer $(flint token create --scope 'user/Patient.rs')" ...
The token acts as the administrator, limited to SCOPES, or with --user as that user
(their roles apply, limited to SCOPES); --patient sets the patient of patient/ scopes.
--ttl: a number with s, m, h or d (default 1h, at most 30d).

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  scope: { type: 'string' },
  ttl: { type: 'string' },
  patient: { type: 'string' },
  user: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const tokenCommand: Command = {
  name: 'token',
  summary: 'print a bearer token for scripts (runs as admin on that data dir)',
  run: (argv) =>
    reportAccountErrors('token', async () => {
      const { values, positionals } = parseWithPositionals(argv, OPTIONS, USAGE);
      if (values.help || positionals[0] !== 'create') {
        process.stdout.write(USAGE);
        return values.help ? 0 : 2;
      }
      if (!values.scope || parseScopes(values.scope).grants.length === 0) throw new AccountError('--scope needs at least one resource scope, e.g. "user/*.rs"');
      const ttl = parseTtl(values.ttl ?? '1h');
      return withAccounts(values['data-dir'], async ({ tokens, users }) => {
        let sub = CLI_SUBJECT;
        if (values.user) {
          const user = users.byName(values.user);
          if (!user || user.disabled) throw new AccountError(`no active user ${values.user}`);
          sub = user.id;
        }
        const claims: Parameters<typeof tokens.issueAccess>[0] = { sub, client_id: CLI_CLIENT_ID, scope: values.scope! };
        if (values.patient) claims.patient = values.patient;
        const { token } = await tokens.issueAccess(claims, ttl);
        process.stdout.write(`${token}\n`);
        return 0;
      });
    }),
};

function parseTtl(s: string): number {
  const m = /^(\d+)([smhd])$/.exec(s);
  if (!m) throw new AccountError('--ttl is a number with s, m, h or d, e.g. 1h');
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (seconds < 1 || seconds > 30 * 86400) throw new AccountError('--ttl must be between 1s and 30d');
  return seconds;
}
