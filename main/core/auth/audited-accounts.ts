/**
 * Accounts whose security-relevant operations are recorded in the audit trail: logins
 * (success, failure, lockout), tokens issued, refreshed and revoked, apps registered and
 * revoked, users and roles changed. One wrapper, so neither the SMART server nor the
 * CLI has to remember to audit; a record that cannot be written fails the operation.
 * Never recorded: passwords, tokens, codes.
 */
import type { AuditRecorder } from '../audit/recorder';
import type { AuditAgent, SecurityKind } from '../audit/types';
import type { Accounts } from './accounts';
import { UI_CLIENT_ID } from './ui-client';

/**
 * `onLost`: told when the record of a synchronous change (disable, roles, apps) could not
 * be written after the change was made; asynchronous operations fail instead.
 */
export function auditedAccounts(accounts: Accounts, audit: AuditRecorder, onLost: () => void, who: AuditAgent = {}): Accounts {
  const record = (kind: SecurityKind, ok: boolean, agent: AuditAgent, subject?: string, detail?: string) =>
    audit.record([{ kind, ok, agent: { ...who, ...agent }, recorded: new Date(), ...(subject ? { subject } : {}), ...(detail ? { detail } : {}) }]);
  const later = (p: Promise<void>) => void p.catch(onLost);
  const { users, apps, tokens, sessions } = accounts;

  const auditedUsers = Object.create(users) as typeof users;
  auditedUsers.login = async (username, password) => {
    const result = await users.login(username, password);
    const agent: AuditAgent = result.ok ? { userId: result.user.id, username: result.user.username } : { username };
    await record(result.ok ? 'login-success' : 'login-failure', result.ok, agent, `user:${username}`, result.ok ? undefined : result.reason);
    if (!result.ok && result.lockedNow) await record('lockout', true, agent, `user:${username}`);
    return result;
  };
  auditedUsers.add = async (input, o) => {
    const u = await users.add(input, o);
    await record('user-changed', true, {}, `user:${u.username}`, `added with roles ${u.roles.join(',')}`);
    return u;
  };
  auditedUsers.setDisabled = (username, disabled) => {
    const u = users.setDisabled(username, disabled);
    later(record('user-changed', true, {}, `user:${username}`, disabled ? 'disabled' : 'enabled'));
    return u;
  };
  auditedUsers.setPassword = async (username, password) => {
    await users.setPassword(username, password);
    await record('user-changed', true, {}, `user:${username}`, 'password set');
  };
  auditedUsers.setRoles = (username, roles) => {
    const u = users.setRoles(username, roles);
    later(record('user-changed', true, {}, `user:${username}`, `roles ${roles.join(',')}`));
    return u;
  };
  auditedUsers.defineRole = (role) => {
    users.defineRole(role);
    later(record('role-changed', true, {}, `role:${role.name}`));
  };

  const auditedApps = Object.create(apps) as typeof apps;
  auditedApps.add = (input) => {
    const app = apps.add(input);
    later(record('app-registered', true, {}, `app:${app.clientId}`));
    return app;
  };
  auditedApps.revoke = (clientId) => {
    apps.revoke(clientId);
    later(record('app-revoked', true, {}, `app:${clientId}`));
  };

  const auditedTokens = Object.create(tokens) as typeof tokens;
  auditedTokens.issueAccess = async (claims, ttl) => {
    const issued = await tokens.issueAccess(claims, ttl);
    await record('token-issued', true, { clientId: claims.client_id, ...(claims.sub.includes(':') ? {} : { userId: claims.sub }) }, `app:${claims.client_id}`, claims.scope);
    return issued;
  };
  auditedTokens.rotateRefresh = (token, clientId) => {
    const r = tokens.rotateRefresh(token, clientId);
    later(record('token-refreshed', r !== undefined, { clientId }, `app:${clientId}`));
    return r;
  };
  auditedTokens.revoke = async (token) => {
    const kind = await tokens.revoke(token);
    await record('token-revoked', true, {});
    return kind;
  };

  // A UI session locked (idle, the Lock button, the desktop app on sleep or screen lock):
  // recorded as a logout, once per lock: locking a session already locked (the desktop app
  // and the UI may both ask) records nothing. Unlocking is a login (users.login).
  const auditedSessions: typeof sessions = {
    ...sessions,
    lock(id) {
      const wasLocked = sessions.get(id)?.locked === true;
      const s = sessions.lock(id);
      if (s && !wasLocked) {
        const username = users.byId(s.userId)?.username;
        later(record('logout', true, { userId: s.userId, clientId: UI_CLIENT_ID, ...(username ? { username } : {}) }, username ? `user:${username}` : undefined, 'session locked'));
      }
      return s;
    },
  };

  return { ...accounts, users: auditedUsers, apps: auditedApps, tokens: auditedTokens, sessions: auditedSessions };
}
