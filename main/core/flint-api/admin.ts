/**
 * `/flint/admin`: users, roles and apps for the UI, what `flint user` and `flint app` do
 * on the command line (docs/flint-api.md). Admins only (403 for everyone else, on every
 * path). Every change goes through the audited accounts service with the acting admin as
 * the agent. A refused request changes nothing: every member is checked before the first
 * change is made.
 *
 *   GET    /flint/admin/users               {"users": [AdminUser...]}
 *   POST   /flint/admin/users               NewUserRequest -> 201 AdminUser
 *   PATCH  /flint/admin/users/{username}    UserChangeRequest -> 200 AdminUser
 *   GET    /flint/admin/roles               {"roles": [AdminRole...]}
 *   GET    /flint/admin/apps                {"apps": [AdminApp...]}
 *   POST   /flint/admin/apps                NewAppRequest -> 201 AdminApp
 *   DELETE /flint/admin/apps/{clientId}     -> 200 AdminApp (revoked)
 */
import { badRequest, conflict, forbidden, methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import { ID_PATTERN, TYPE_PATTERN } from '../../../shared/fhir/ids';
import type { AdminApp, AdminRole, AdminUser } from '../../../shared/api/admin';
import type { Accounts } from '../auth/accounts';
import { publicJwks, registerApp } from '../auth/app-registration';
import type { App, NewApp } from '../auth/apps';
import { auditedAccounts } from '../auth/audited-accounts';
import { passwordProblem } from '../auth/passwords';
import { isBuiltinRole } from '../auth/roles';
import { AccountError, type User } from '../auth/users';
import type { AuditRecorder } from '../audit/recorder';
import { agentOf } from './agent-of';
import { objectBody, stringListMember, stringMember } from './body';
import type { AuthedFlintRequest, FlintApiResponse, FlintRoute } from './types';

export interface AdminApiOptions {
  /** The accounts service itself: each request wraps it in auditing with its admin as the agent. */
  accounts: Accounts;
  /** Absent only with the audit trail off (`flint serve --no-audit`). */
  audit?: AuditRecorder;
  logFault: (message: string) => void;
  now?: () => number;
}

export function createAdminRoute(o: AdminApiOptions): FlintRoute {
  const now = o.now ?? Date.now;
  return {
    prefix: 'admin',
    async handle(anyReq) {
      const req = anyReq as AuthedFlintRequest;
      if (!req.principal.admin) throw forbidden('Managing users and apps needs the admin role');
      const accounts = o.audit
        ? auditedAccounts(o.accounts, o.audit, () => o.logFault('a security audit record could not be written'), agentOf(req))
        : o.accounts;
      const [, what, name, ...rest] = req.path;
      if (rest.length > 0) throw notFound('Not found under /flint/admin');
      if (what === 'users' && name === undefined) {
        if (req.method === 'GET') return { status: 200, body: { users: accounts.users.list().map((u) => userView(u, now())) } };
        if (req.method === 'POST') return addUser(accounts, req);
        throw methodNotAllowed('Allowed here: GET, POST');
      }
      if (what === 'users' && name !== undefined) {
        if (req.method === 'PATCH') return changeUser(accounts, req, name);
        throw methodNotAllowed('Allowed here: PATCH');
      }
      if (what === 'roles' && name === undefined) {
        if (req.method !== 'GET') throw methodNotAllowed('Allowed here: GET');
        return { status: 200, body: { roles: accounts.users.roles().map(roleView) } };
      }
      if (what === 'apps' && name === undefined) {
        if (req.method === 'GET') return { status: 200, body: { apps: accounts.apps.list().map(appView) } };
        if (req.method === 'POST') return addApp(accounts, req);
        throw methodNotAllowed('Allowed here: GET, POST');
      }
      if (what === 'apps' && name !== undefined) {
        if (req.method !== 'DELETE') throw methodNotAllowed('Allowed here: DELETE');
        if (!accounts.apps.get(name)) throw notFound('No app with that client id');
        accounts.apps.revoke(name);
        return { status: 200, body: appView(accounts.apps.get(name)!) };
      }
      throw notFound('Not found under /flint/admin');
    },
  };

  async function addUser(accounts: Accounts, req: AuthedFlintRequest): Promise<FlintApiResponse> {
    const b = objectBody(req, ['username', 'password', 'roles', 'fhirUser', 'display'], '{"username", "password", "roles": [...], "fhirUser"?}');
    const username = stringMember(b, 'username', { required: true });
    const password = stringMember(b, 'password', { required: true });
    const roles = stringListMember(b, 'roles');
    if (!roles) throw badRequest('"roles" is required: a list of role names');
    const fhirUser = stringMember(b, 'fhirUser');
    if (fhirUser !== undefined) checkFhirUser(fhirUser);
    const display = stringMember(b, 'display');
    if (accounts.users.byName(username)) throw conflict('A user with that username exists already');
    const input: Parameters<Accounts['users']['add']>[0] = { username, password, roles };
    if (fhirUser !== undefined) input.fhirUser = fhirUser;
    if (display !== undefined) input.display = display;
    const user = await asBadRequest(() => accounts.users.add(input));
    return { status: 201, body: userView(user, now()) };
  }

  async function changeUser(accounts: Accounts, req: AuthedFlintRequest, username: string): Promise<FlintApiResponse> {
    const { users } = accounts;
    const user = users.byName(username);
    if (!user) throw notFound('No user with that username');
    const b = objectBody(req, ['roles', 'disabled', 'password'], '{"roles"?: [...], "disabled"?: true|false, "password"?}');
    if (Object.keys(b).length === 0) throw badRequest('Nothing to change: send "roles", "disabled" or "password"');
    const roles = stringListMember(b, 'roles');
    if (roles) checkRoles(accounts, roles);
    const disabled = b['disabled'];
    if (disabled !== undefined && typeof disabled !== 'boolean') throw badRequest('"disabled" must be true or false');
    const password = stringMember(b, 'password');
    if (password !== undefined) {
      const problem = passwordProblem(password);
      if (problem) throw badRequest(sentence(problem));
    }
    // Everything checked: from here the changes are made, synchronously up to the password.
    const after: User = { ...user, roles: roles ?? user.roles, disabled: disabled ?? user.disabled };
    if (isEnabledAdmin(accounts, user) && !isEnabledAdmin(accounts, after)) {
      const others = users.list().filter((u) => u.id !== user.id && isEnabledAdmin(accounts, u));
      if (others.length === 0) {
        throw conflict(`${user.username} is the last enabled administrator: give another user the admin role first, or nobody could manage this workstation`);
      }
    }
    if (roles) users.setRoles(user.username, roles);
    if (disabled !== undefined && disabled !== user.disabled) users.setDisabled(user.username, disabled);
    if (password !== undefined) await users.setPassword(user.username, password);
    return { status: 200, body: userView(users.byName(user.username)!, now()) };
  }

  function addApp(accounts: Accounts, req: AuthedFlintRequest): FlintApiResponse {
    const b = objectBody(req, ['name', 'redirectUris', 'jwks', 'scope', 'role', 'clientId'], '{"name", "redirectUris": [...], "scope"} or {"name", "jwks": {"keys": [...]}, "scope", "role"}');
    const name = stringMember(b, 'name', { required: true });
    const scope = stringMember(b, 'scope', { required: true });
    const redirectUris = stringListMember(b, 'redirectUris');
    const role = stringMember(b, 'role');
    const clientId = stringMember(b, 'clientId');
    const jwks = b['jwks'];
    if ((redirectUris === undefined) === (jwks === undefined)) {
      throw badRequest('Send "redirectUris" for a SMART app, or "jwks" and "role" for a backend service');
    }
    if (jwks !== undefined && (!jwks || typeof jwks !== 'object' || Array.isArray(jwks) || !Array.isArray((jwks as { keys?: unknown }).keys))) {
      throw badRequest('"jwks" must be a JSON Web Key Set: {"keys": [...]}');
    }
    if (redirectUris !== undefined && role !== undefined) throw badRequest('"role" is for backend services; a SMART app acts with its user\'s roles');
    if (clientId !== undefined && accounts.apps.get(clientId)) throw conflict('An app with that client id exists already');
    const input: NewApp = { name, scope };
    if (redirectUris !== undefined) input.redirectUris = redirectUris;
    if (jwks !== undefined) input.jwks = jwks as NonNullable<App['jwks']>;
    if (role !== undefined) input.role = role;
    if (clientId !== undefined) input.clientId = clientId;
    const app = asBadRequestSync(() => registerApp(accounts, input));
    return { status: 201, body: appView(app) };
  }
}

function userView(u: User, now: number): AdminUser {
  const v: AdminUser = { username: u.username, roles: [...u.roles], disabled: u.disabled };
  if (u.lockedUntil > now) v.lockedUntil = new Date(u.lockedUntil).toISOString();
  if (u.fhirUser) v.fhirUser = u.fhirUser;
  if (u.display) v.display = u.display;
  return v;
}

function roleView(r: ReturnType<Accounts['users']['roles']>[number]): AdminRole {
  return {
    name: r.name,
    description: r.description,
    builtin: isBuiltinRole(r.name),
    admin: r.admin === true,
    permissions: r.permissions.map((p) => ({ types: [...p.types], interactions: [...p.interactions] })),
  };
}

export function appView(a: App): AdminApp {
  const v: AdminApp = {
    clientId: a.clientId,
    name: a.name,
    redirectUris: a.redirectUris,
    origins: a.origins,
    scope: a.scope,
    role: a.role,
    revoked: a.revoked,
    kind: a.jwks ? 'backend' : 'public',
  };
  if (a.jwks) v.jwks = publicJwks(a.jwks);
  return v;
}

const isEnabledAdmin = (accounts: Accounts, u: User) => !u.disabled && accounts.users.rightsOf(u).admin;

function checkRoles(accounts: Accounts, roles: string[]): void {
  if (roles.length === 0) throw badRequest('Give the user at least one role');
  const known = new Set(accounts.users.roles().map((r) => r.name));
  const unknown = roles.filter((r) => !known.has(r));
  if (unknown.length > 0) throw badRequest(`Unknown roles: ${unknown.map((r) => JSON.stringify(r.slice(0, 64))).join(', ')}; see GET /flint/admin/roles`);
}

/** `Practitioner/123`: what SMART's fhirUser claim will carry. */
function checkFhirUser(ref: string): void {
  const [type = '', id = '', ...more] = ref.split('/');
  if (more.length > 0 || !TYPE_PATTERN.test(type) || !ID_PATTERN.test(id)) throw badRequest('"fhirUser" is a reference like Practitioner/123');
}

/** The accounts service's rules (username, password, roles, redirect URIs...) as 400s. */
async function asBadRequest<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toBadRequest(e);
  }
}

function asBadRequestSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toBadRequest(e);
  }
}

function toBadRequest(e: unknown): unknown {
  if (!(e instanceof AccountError)) return e;
  // Taken between our check and the insert (another admin, the CLI): still a conflict.
  if (/taken/.test(e.message)) return conflict(sentence(e.message));
  return badRequest(sentence(e.message));
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
