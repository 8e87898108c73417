/** `flint app add|list|revoke`: the SMART app registry of a data dir. */
import { readFileSync } from 'node:fs';
import { registerApp } from '../auth/app-registration';
import type { App } from '../auth/apps';
import { AccountError } from '../auth/users';
import type { Command } from './command';
import { parseWithPositionals, reportAccountErrors, withAccounts } from './with-accounts';

const USAGE = `Usage:
  flint app add --name NAME --redirect-uri URI [--redirect-uri URI...] --scope "SCOPES" [--client-id ID]
  flint app add --name NAME --jwks FILE --role ROLE --scope "system/..." [--client-id ID]
  flint app list
  flint app revoke CLIENT_ID

Registers SMART on FHIR apps. Browser and desktop apps (public clients) use the
authorization code flow with PKCE; their redirect URIs are matched exactly, and
their origins become the only origins CORS allows. Backend services authenticate
with a JWT signed by a key in their JWKS (private_key_jwt) and act with ROLE.
--scope is the most the app may be granted, e.g.
  "openid fhirUser launch/patient offline_access patient/*.rs user/*.rs"
Revoking an app ends its refresh tokens at once and its access tokens at their next use.

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  scope: { type: 'string' },
  jwks: { type: 'string' },
  role: { type: 'string' },
  'client-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const appCommand: Command = {
  name: 'app',
  summary: 'register, list and revoke SMART apps and backend services',
  run: (argv) =>
    reportAccountErrors('app', async () => {
      const { values, positionals } = parseWithPositionals(argv, OPTIONS, USAGE);
      const [action, clientId] = positionals;
      if (values.help || !action) {
        process.stdout.write(USAGE);
        return values.help ? 0 : 2;
      }
      return withAccounts(values['data-dir'], async ({ apps, users }) => {
        switch (action) {
          case 'add': {
            if (!values.name || !values.scope) throw new AccountError('--name and --scope are required');
            const input: Parameters<typeof apps.add>[0] = { name: values.name, scope: values.scope, redirectUris: values['redirect-uri'] ?? [] };
            if (values.jwks) input.jwks = readJwks(values.jwks);
            if (values.role) input.role = values.role;
            if (values['client-id']) input.clientId = values['client-id'];
            const app = registerApp({ apps, users }, input);
            process.stdout.write(`Registered ${app.name}\nclient_id: ${app.clientId}\n`);
            return 0;
          }
          case 'list':
            for (const a of apps.list()) process.stdout.write(describe(a));
            return 0;
          case 'revoke':
            if (!clientId) throw new AccountError('"app revoke" needs a client id');
            apps.revoke(clientId);
            process.stdout.write(`Revoked ${clientId}\n`);
            return 0;
          default:
            throw new AccountError(`unknown action "${action}"\n\n${USAGE}`);
        }
      });
    }),
};

function readJwks(file: string): App['jwks'] {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as App['jwks'];
  } catch {
    throw new AccountError(`${file} is not a readable JSON Web Key Set`);
  }
}

const describe = (a: App) =>
  `${a.clientId}\t${a.name}\t${a.revoked ? 'revoked' : 'active'}\t${a.jwks ? `backend (role ${a.role})` : a.redirectUris.join(' ')}\t${a.scope}\n`;
