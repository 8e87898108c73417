/**
 * /flint/admin on a real accounts database in a temp dir, with a recording audit trail:
 * admins only, the shapes, validation as 400 that changes nothing, 409 for taken names
 * and the last enabled admin, apps registered and revoked, every change audited with the
 * acting admin as its agent.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../../shared/fhir/outcome';
import { openAccounts, type Accounts } from '../auth/accounts';
import type { Principal } from '../auth/principal';
import { BUILTIN_ROLES } from '../auth/roles';
import { parseScopes } from '../auth/scopes';
import type { AuditRecorder } from '../audit/recorder';
import type { AccessRecord, SecurityRecord, SyncRecord } from '../audit/types';
import { createAdminRoute } from './admin';
import type { FlintApiResponse } from './types';

let dir: string;
let accounts: Accounts;
const records: Array<AccessRecord | SecurityRecord | SyncRecord> = [];
const audit: AuditRecorder = { record: async (r) => void records.push(...r) };
const faults: string[] = [];

const principal = (role: string, username: string): Principal =>
  ({
    subject: `id-${username}`,
    username,
    clientId: 'flint-ui',
    scopes: parseScopes('user/*.cruds'),
    permissions: BUILTIN_ROLES.find((r) => r.name === role)!.permissions,
    admin: role === 'admin',
    tokenId: 't1',
  }) as Principal;
const ADMIN = principal('admin', 'boss');
const READER = principal('reader', 'rita');

let route: ReturnType<typeof createAdminRoute>;
const call = (method: string, path: string, body?: unknown, who = ADMIN): Promise<FlintApiResponse> =>
  route.handle({ method, path: ['admin', ...path.split('/').filter(Boolean)], query: new URLSearchParams(), principal: who, address: '127.0.0.1', ...(body === undefined ? {} : { body }) });
const bodyOf = <T>(r: FlintApiResponse) => (r as { body: T }).body;

/** The FhirError a call fails with. */
async function refusal(p: Promise<unknown>): Promise<FhirError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FhirError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-admin-api-'));
  const master = randomBytes(32);
  accounts = openAccounts({
    workstationId: 'abc123',
    storeFile: (name: string) => join(dir, `${name}.db`),
    purposeKey: (p: string) => Buffer.from(master.map((b, i) => b ^ p.charCodeAt(i % p.length))),
  });
  route = createAdminRoute({ accounts, audit, logFault: (f) => faults.push(f), now: () => Date.parse('2026-06-01T00:00:00Z') });
});
afterAll(() => {
  accounts?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/flint/admin', () => {
  it('refuses every route, every method, to a non-admin with 403', async () => {
    for (const [m, p] of [['GET', 'users'], ['POST', 'users'], ['PATCH', 'users/x'], ['GET', 'roles'], ['GET', 'apps'], ['POST', 'apps'], ['DELETE', 'apps/x'], ['GET', 'nothing']]) {
      expect((await refusal(call(m!, p!, {}, READER))).status, `${m} ${p}`).toBe(403);
    }
    expect(accounts.users.count()).toBe(0);
  });

  it('adds a user (201, no password hash) and lists it; refuses bad input with 400 and a taken name with 409', async () => {
    const added = await call('POST', 'users', { username: 'Alice', password: 'alice password 1', roles: ['reader'], fhirUser: 'Practitioner/p1' });
    expect(added.status).toBe(201);
    expect(bodyOf(added)).toEqual({ username: 'Alice', roles: ['reader'], disabled: false, fhirUser: 'Practitioner/p1' });
    const list = bodyOf<{ users: unknown[] }>(await call('GET', 'users'));
    expect(list.users).toEqual([bodyOf(added)]);
    expect(JSON.stringify(list)).not.toMatch(/scrypt/);

    const bad: Array<[unknown, RegExp]> = [
      [{ username: 'bad name', password: 'long enough pw', roles: ['reader'] }, /username/],
      [{ username: 'bob', password: 'short', roles: ['reader'] }, /10 characters/],
      [{ username: 'bob', password: 'long enough pw', roles: ['nonsense'] }, /unknown roles/i],
      [{ username: 'bob', password: 'long enough pw', roles: [] }, /at least one role/],
      [{ username: 'bob', password: 'long enough pw' }, /roles/],
      [{ username: 'bob', password: 'long enough pw', roles: ['reader'], fhirUser: 'not a ref' }, /fhirUser/],
      [{ username: 'bob', password: 'long enough pw', roles: ['reader'], admin: true }, /Unknown member "admin"/],
      [['bob'], /JSON object/],
    ];
    for (const [body, words] of bad) {
      const e = await refusal(call('POST', 'users', body));
      expect(e.status, JSON.stringify(body)).toBe(400);
      expect(e.outcome.issue[0]!.diagnostics).toMatch(words);
    }
    expect((await refusal(call('POST', 'users', { username: 'ALICE', password: 'another long one', roles: ['reader'] }))).status).toBe(409);
    expect(accounts.users.list().map((u) => u.username)).toEqual(['Alice']);
  });

  it('changes roles, disabled and password; 404 for an unknown user; a bad change changes nothing', async () => {
    const r = await call('PATCH', 'users/alice', { roles: ['writer', 'auditor'], disabled: true });
    expect(r.status).toBe(200);
    expect(bodyOf(r)).toMatchObject({ username: 'Alice', roles: ['writer', 'auditor'], disabled: true });
    expect((await refusal(call('PATCH', 'users/nobody', { disabled: true }))).status).toBe(404);
    // A good role with a bad password: neither is applied.
    expect((await refusal(call('PATCH', 'users/alice', { roles: ['reader'], password: 'short' }))).status).toBe(400);
    expect((await refusal(call('PATCH', 'users/alice', { disabled: 'no' }))).status).toBe(400);
    expect((await refusal(call('PATCH', 'users/alice', {}))).status).toBe(400);
    expect(accounts.users.byName('alice')!.roles).toEqual(['writer', 'auditor']);
    await call('PATCH', 'users/alice', { disabled: false, password: 'a new password 2' });
    expect((await accounts.users.login('alice', 'a new password 2')).ok).toBe(true);
  });

  it('keeps the last enabled admin: no removing its admin role, no disabling it (409), until there is another', async () => {
    await call('POST', 'users', { username: 'root', password: 'root password 1', roles: ['admin'] });
    for (const change of [{ roles: ['reader'] }, { disabled: true }]) {
      const e = await refusal(call('PATCH', 'users/root', change));
      expect(e.status).toBe(409);
      expect(e.outcome.issue[0]!.diagnostics).toMatch(/last enabled administrator/);
    }
    expect(accounts.users.byName('root')).toMatchObject({ roles: ['admin'], disabled: false });
    await call('POST', 'users', { username: 'root2', password: 'root password 2', roles: ['admin', 'reader'] });
    expect((await call('PATCH', 'users/root', { roles: ['reader'] })).status).toBe(200);
    // root2 is the last one now; a change that keeps admin is fine.
    expect((await call('PATCH', 'users/root2', { roles: ['admin'] })).status).toBe(200);
    expect((await refusal(call('PATCH', 'users/root2', { disabled: true }))).status).toBe(409);
  });

  it('lists roles with their permissions, built-in or not', async () => {
    accounts.users.defineRole({ name: 'labs', description: 'Lab results', permissions: [{ types: ['Observation'], interactions: ['read', 'search'] }] });
    const roles = bodyOf<{ roles: Array<{ name: string; builtin: boolean; admin: boolean }> }>(await call('GET', 'roles')).roles;
    expect(roles.find((r) => r.name === 'admin')).toMatchObject({ builtin: true, admin: true });
    expect(roles.find((r) => r.name === 'labs')).toEqual({ name: 'labs', description: 'Lab results', builtin: false, admin: false, permissions: [{ types: ['Observation'], interactions: ['read', 'search'] }] });
  });

  it('registers public apps and backend services, refuses what flint app add refuses and private keys, revokes', async () => {
    const pub = await call('POST', 'apps', { name: 'Charts', redirectUris: ['https://charts.example/cb'], scope: 'openid user/*.rs' });
    expect(pub.status).toBe(201);
    const app = bodyOf<{ clientId: string }>(pub);
    expect(app).toMatchObject({ name: 'Charts', redirectUris: ['https://charts.example/cb'], origins: ['https://charts.example'], scope: 'openid user/*.rs', role: null, revoked: false, kind: 'public' });
    const key = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB', kid: 'k1' };
    const svc = await call('POST', 'apps', { name: 'Labs feed', jwks: { keys: [key] }, scope: 'system/*.rs', role: 'reader' });
    expect(bodyOf(svc)).toMatchObject({ kind: 'backend', role: 'reader', jwks: { keys: [key] } });

    const bad: unknown[] = [
      { name: 'X', redirectUris: ['http://evil.example/cb'], scope: 'user/*.rs' },
      { name: 'X', redirectUris: ['not a url'], scope: 'user/*.rs' },
      { name: 'X', scope: 'user/*.rs' },
      { name: 'X', redirectUris: ['https://x.example/cb'] },
      { name: 'X', jwks: { keys: [key] }, scope: 'system/*.rs' },
      { name: 'X', jwks: { keys: [key] }, scope: 'system/*.rs', role: 'nonsense' },
      { name: 'X', jwks: { keys: [{ ...key, d: 'secret' }] }, scope: 'system/*.rs', role: 'reader' },
      { name: 'X', jwks: [], scope: 'system/*.rs', role: 'reader' },
      { name: 'X', redirectUris: ['https://x.example/cb'], jwks: { keys: [key] }, scope: 'user/*.rs', role: 'reader' },
    ];
    for (const body of bad) expect((await refusal(call('POST', 'apps', body))).status, JSON.stringify(body)).toBe(400);
    expect((await refusal(call('POST', 'apps', { name: 'Y', redirectUris: ['https://y.example/cb'], scope: 'user/*.rs', clientId: app.clientId }))).status).toBe(409);
    expect(bodyOf<{ apps: unknown[] }>(await call('GET', 'apps')).apps).toHaveLength(2);

    const revoked = await call('DELETE', `apps/${app.clientId}`);
    expect(revoked.status).toBe(200);
    expect(bodyOf(revoked)).toMatchObject({ clientId: app.clientId, revoked: true });
    expect(accounts.apps.active(app.clientId)).toBeUndefined();
    expect((await refusal(call('DELETE', 'apps/no-such-app'))).status).toBe(404);
    expect((await refusal(call('PUT', 'apps'))).status).toBe(405);
  });

  it('audits every change with the acting admin as the agent, and never a password', async () => {
    await new Promise((r) => setTimeout(r, 10)); // synchronous changes are recorded a moment later
    const security = records.filter((r): r is SecurityRecord => 'kind' in r);
    const seen = security.map((r) => `${r.kind} ${r.subject}`);
    for (const want of [/^user-changed user:Alice$/, /^user-changed user:root$/, /^app-registered app:/, /^app-revoked app:/]) {
      expect(seen.some((s) => want.test(s)), String(want)).toBe(true);
    }
    expect(security.every((r) => r.agent.username === 'boss' && r.agent.userId === 'id-boss' && r.agent.address === '127.0.0.1')).toBe(true);
    expect(JSON.stringify(records)).not.toMatch(/password 1|password 2/);
    expect(faults).toEqual([]);
  });
});
