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
import { TokenService, type AccessClaims } from './tokens';
import { UI_CLIENT_ID } from './ui-client';
import { createUiSessions, type UiSessions } from './ui-sessions';
import { UserService } from './users';

export interface Accounts {
  users: UserService;
  apps: AppRegistry;
  tokens: TokenService;
  /** The UI's sessions (in memory: a restart ends them). */
  sessions: UiSessions;
  /** The principal of a valid token whose user (or app) is still active; undefined otherwise. */
  authenticate(bearer: string): Promise<Principal | undefined>;
  close(): void;
}

export type AccountsDataDir = Pick<DataDir, 'storeFile' | 'purposeKey' | 'workstationId'>;

/** Principals kept per token; the whole cache is dropped when full (simple, and rare). */
const PRINCIPALS_MAX = 1024;

interface KnownPrincipal {
  principal: Principal;
  /** auth.db's version when it was resolved: any change since (a revocation, a user disabled) drops it. */
  version: string;
  /** The token's exp, in ms. */
  expires: number;
}

export function openAccounts(dataDir: AccountsDataDir, now: () => number = Date.now): Accounts {
  const db: AuthDb = openAuthDb(dataDir.storeFile('auth'), dataDir.purposeKey('auth'));
  const users = new UserService(db, now);
  const apps = new AppRegistry(db, now);
  const tokens = new TokenService(db, dataDir.purposeKey('tokens'), `flint:${dataDir.workstationId}`, now);
  const sessions = createUiSessions(now);
  const admin = BUILTIN_ROLES.find((r) => r.name === 'admin')!;
  // Every request presents its token: resolving it (signature, revocation, user, app,
  // roles) once per token and auth.db version, instead of per request, takes the accounts
  // off the request path. Any write to auth.db, by this process or another, changes the
  // version, so a revocation or a disabled user takes effect on the next request; so does
  // a UI session locked or ended.
  const known = new Map<string, KnownPrincipal>();
  const versionNow = () => `${db.version()}/${sessions.version()}`;
  return {
    users,
    apps,
    tokens,
    sessions,
    async authenticate(bearer) {
      const version = versionNow();
      const hit = known.get(bearer);
      if (hit && hit.version === version && now() < hit.expires) return hit.principal;
      known.delete(bearer);
      const claims = await tokens.verifyAccess(bearer);
      if (!claims) return undefined;
      const principal = resolve(claims);
      // Only if nothing changed meanwhile (verifyAccess awaits): else the next request resolves again.
      if (principal && versionNow() === version) {
        if (known.size >= PRINCIPALS_MAX) known.clear();
        const sessionEnds = claims.sid ? (sessions.get(claims.sid)?.expires ?? 0) : Infinity;
        known.set(bearer, { principal: Object.freeze(principal), version, expires: Math.min(claims.exp * 1000, sessionEnds) });
      }
      return principal;
    },
    close: () => db.close(),
  };

  /** Token claims to the principal they stand for, from auth.db; undefined if that is no longer active. */
  function resolve(claims: AccessClaims): Principal | undefined {
    const base = { clientId: claims.client_id, scopes: parseScopes(claims.scope), scope: claims.scope, tokenId: claims.jti };
    const context: Partial<Principal> = {};
    if (claims.patient) context.patient = claims.patient;
    if (claims.fhirUser) context.fhirUser = claims.fhirUser;
    if (claims.sub === CLI_SUBJECT && claims.client_id === CLI_CLIENT_ID) {
      return { ...base, ...context, subject: claims.sub, roles: ['admin'], permissions: admin.permissions, admin: true };
    }
    // `flint token create --user` and the UI are not registered apps; the user's roles apply.
    // A UI token works only while its session is live and unlocked, in this process.
    const firstParty = claims.client_id === CLI_CLIENT_ID || claims.client_id === UI_CLIENT_ID;
    const app = firstParty ? undefined : apps.active(claims.client_id);
    if (!app && !firstParty) return undefined;
    if (claims.client_id === UI_CLIENT_ID) {
      if (!sessions.admits(claims.sid, claims.sub)) return undefined;
      context.sessionId = claims.sid!;
    }
    if (claims.sub.startsWith('client:')) {
      if (!app) return undefined;
      if (claims.sub !== `client:${app.clientId}` || !app.role) return undefined;
      const role = users.roles().find((r) => r.name === app.role);
      if (!role) return undefined;
      return { ...base, ...context, subject: claims.sub, roles: [role.name], permissions: role.permissions, admin: role.admin === true };
    }
    const user = users.byId(claims.sub);
    if (!user || user.disabled) return undefined;
    const rights = users.rightsOf(user);
    return { ...base, ...context, subject: user.id, username: user.username, roles: [...user.roles], ...rights };
  }
}
