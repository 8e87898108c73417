/**
 * The accounts service: users, roles, apps and tokens over one auth.db, and the one
 * function the HTTP layer needs from them: bearer token -> Principal. Built once by the
 * composition root (app.ts) or by a `flint user|app|token` command.
 */
import type { DataDir } from '../store/data-dir';
import { AppRegistry } from './apps';
import { openAuthDb, type AuthDb } from './auth-db';
import { CLI_CLIENT_ID, CLI_SUBJECT, type Principal } from './principal';
import { BUILTIN_ROLES } from './roles';
import { parseScopes } from './scopes';
import { TokenService } from './tokens';
import { UserService } from './users';

export interface Accounts {
  users: UserService;
  apps: AppRegistry;
  tokens: TokenService;
  /** The principal of a valid token whose user (or app) is still active; undefined otherwise. */
  authenticate(bearer: string): Promise<Principal | undefined>;
  close(): void;
}

export type AccountsDataDir = Pick<DataDir, 'storeFile' | 'purposeKey' | 'workstationId'>;

export function openAccounts(dataDir: AccountsDataDir, now: () => number = Date.now): Accounts {
  const db: AuthDb = openAuthDb(dataDir.storeFile('auth'), dataDir.purposeKey('auth'));
  const users = new UserService(db, now);
  const apps = new AppRegistry(db, now);
  const tokens = new TokenService(db, dataDir.purposeKey('tokens'), `flint:${dataDir.workstationId}`, now);
  const admin = BUILTIN_ROLES.find((r) => r.name === 'admin')!;
  return {
    users,
    apps,
    tokens,
    async authenticate(bearer) {
      const claims = await tokens.verifyAccess(bearer);
      if (!claims) return undefined;
      const base = { clientId: claims.client_id, scopes: parseScopes(claims.scope), tokenId: claims.jti };
      const context: Partial<Principal> = {};
      if (claims.patient) context.patient = claims.patient;
      if (claims.fhirUser) context.fhirUser = claims.fhirUser;
      if (claims.sub === CLI_SUBJECT && claims.client_id === CLI_CLIENT_ID) {
        return { ...base, ...context, subject: claims.sub, permissions: admin.permissions, admin: true };
      }
      // `flint token create --user`: the CLI is not a registered app; the user's roles apply.
      const app = claims.client_id === CLI_CLIENT_ID ? undefined : apps.active(claims.client_id);
      if (!app && claims.client_id !== CLI_CLIENT_ID) return undefined;
      if (claims.sub.startsWith('client:')) {
        if (!app) return undefined;
        if (claims.sub !== `client:${app.clientId}` || !app.role) return undefined;
        const role = users.roles().find((r) => r.name === app.role);
        if (!role) return undefined;
        return { ...base, ...context, subject: claims.sub, permissions: role.permissions, admin: role.admin === true };
      }
      const user = users.byId(claims.sub);
      if (!user || user.disabled) return undefined;
      const rights = users.rightsOf(user);
      return { ...base, ...context, subject: user.id, username: user.username, ...rights };
    },
    close: () => db.close(),
  };
}
