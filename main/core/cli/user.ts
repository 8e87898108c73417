/** `flint user add|list|disable|enable|passwd|roles`, and `flint user role-add|role-list` for custom roles. */
import { INTERACTIONS, type Interaction, type Permission } from '../auth/roles';
import { AccountError } from '../auth/users';
import type { Command } from './command';
import { parseWithPositionals, readSecret, reportAccountErrors, withAccounts } from './with-accounts';

const USAGE = `Usage:
  flint user add USERNAME --role ROLE [--role ROLE...] [--display NAME] [--fhir-user Practitioner/ID]
  flint user list
  flint user disable USERNAME | flint user enable USERNAME
  flint user passwd USERNAME
  flint user roles USERNAME --role ROLE [--role ROLE...]
  flint user role-add NAME --allow TYPES:INTERACTIONS [--allow ...] [--description TEXT]
  flint user role-list

Manages the local accounts of a data dir, whether or not a server is running on it.
Passwords are read from the terminal (not echoed) or from the first line of stdin,
never from arguments. Built-in roles: reader, writer, contributor, exporter, importer,
auditor, admin. A custom role allows interactions on types, e.g.
  --allow Observation,DiagnosticReport:read,search --allow Patient:read
(interactions: ${INTERACTIONS.join(', ')}; types may be *).

Options:
  --data-dir DIR   data dir (default: FLINT_DATA_DIR, else the desktop app's)
  -h, --help       show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  role: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  display: { type: 'string' },
  description: { type: 'string' },
  'fhir-user': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const userCommand: Command = {
  name: 'user',
  summary: 'add, list, disable and change local user accounts and roles',
  run: (argv) =>
    reportAccountErrors('user', async () => {
      const { values, positionals } = parseWithPositionals(argv, OPTIONS, USAGE);
      const [action, name] = positionals;
      if (values.help || !action) {
        process.stdout.write(USAGE);
        return values.help ? 0 : 2;
      }
      const needName = () => {
        if (!name) throw new AccountError(`"user ${action}" needs a name`);
        return name;
      };
      return withAccounts(values['data-dir'], async ({ users }) => {
        switch (action) {
          case 'add': {
            const username = needName();
            const password = await readSecret(`Password for ${username}: `);
            const input: Parameters<typeof users.add>[0] = { username, password, roles: values.role ?? [] };
            if (values.display) input.display = values.display;
            if (values['fhir-user']) input.fhirUser = values['fhir-user'];
            const u = await users.add(input);
            process.stdout.write(`Added ${u.username} (${u.roles.join(', ')})\n`);
            return 0;
          }
          case 'list':
            for (const u of users.list()) {
              const state = u.disabled ? 'disabled' : u.lockedUntil > Date.now() ? 'locked' : 'active';
              process.stdout.write(`${u.username}\t${u.roles.join(',')}\t${state}${u.fhirUser ? `\t${u.fhirUser}` : ''}\n`);
            }
            return 0;
          case 'disable':
          case 'enable':
            users.setDisabled(needName(), action === 'disable');
            process.stdout.write(`${action === 'disable' ? 'Disabled' : 'Enabled'} ${name}\n`);
            return 0;
          case 'passwd':
            await users.setPassword(needName(), await readSecret(`New password for ${name}: `));
            process.stdout.write(`Password changed for ${name}\n`);
            return 0;
          case 'roles':
            users.setRoles(needName(), values.role ?? []);
            process.stdout.write(`Roles of ${name}: ${(values.role ?? []).join(', ')}\n`);
            return 0;
          case 'role-add':
            users.defineRole({ name: needName(), description: values.description ?? '', permissions: (values.allow ?? []).map(parseAllow) });
            process.stdout.write(`Defined role ${name}\n`);
            return 0;
          case 'role-list':
            for (const r of users.roles()) {
              const perms = r.permissions.map((p) => `${p.types.join(',')}:${p.interactions.join(',')}`).join(' ');
              process.stdout.write(`${r.name}\t${perms}${r.admin ? '\t(admin)' : ''}\n`);
            }
            return 0;
          default:
            throw new AccountError(`unknown action "${action}"\n\n${USAGE}`);
        }
      });
    }),
};

function parseAllow(spec: string): Permission {
  const [types = '', interactions = ''] = spec.split(':');
  const list = interactions.split(',').filter(Boolean);
  const bad = list.filter((i) => !(INTERACTIONS as readonly string[]).includes(i));
  if (!types || list.length === 0 || bad.length > 0) throw new AccountError(`--allow ${spec}: expected TYPES:INTERACTIONS (${INTERACTIONS.join(', ')})`);
  return { types: types.split(',').filter(Boolean), interactions: list as Interaction[] };
}
