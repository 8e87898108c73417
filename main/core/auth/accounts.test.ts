import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAccounts, type Accounts } from './accounts';
import { CLI_CLIENT_ID, CLI_SUBJECT } from './principal';
import { allows } from './roles';
import { BUILTIN_ROLES } from './roles';
import { grantsFor, narrowScopes, parseScopes, systemScopesOf } from './scopes';
import { LOCKOUT_MS, MAX_FAILURES } from './users';

let dir: string;
let clock = Date.parse('2026-01-01T00:00:00Z');
let accounts: Accounts;
const master = randomBytes(32);
const dataDir = () => ({
  workstationId: 'abc123',
  storeFile: (name: string) => join(dir, `${name}.db`),
  purposeKey: (p: string) => Buffer.from(master.map((b, i) => b ^ p.charCodeAt(i % p.length))),
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-accounts-'));
  accounts = openAccounts(dataDir(), () => clock);
});
afterAll(() => {
  accounts.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('users', () => {
  it('adds users with hashed passwords and checks them', async () => {
    const u = await accounts.users.add({ username: 'Alice', password: 'correct horse battery', roles: ['reader'] });
    expect(u.roles).toEqual(['reader']);
    expect((await accounts.users.login('alice', 'correct horse battery')).ok).toBe(true);
    expect(await accounts.users.login('alice', 'wrong password!!')).toEqual({ ok: false, reason: 'password' });
    expect((await accounts.users.login('nobody', 'whatever-it-is')).ok).toBe(false);
    await expect(accounts.users.add({ username: 'ALICE', password: 'another long one', roles: ['reader'] })).rejects.toThrow(/taken/);
    await expect(accounts.users.add({ username: 'bob', password: 'short', roles: ['reader'] })).rejects.toThrow(/10 characters/);
    await expect(accounts.users.add({ username: 'bob', password: 'long enough pw', roles: ['nonsense'] })).rejects.toThrow(/unknown roles/);
  });

  it('locks an account after repeated failures, even for the right password, until the lockout ends', async () => {
    await accounts.users.add({ username: 'carol', password: 'carol password 1', roles: ['writer'] });
    for (let i = 1; i < MAX_FAILURES; i++) expect((await accounts.users.login('carol', 'bad guess ' + i)).ok).toBe(false);
    expect(await accounts.users.login('carol', 'bad guess last')).toEqual({ ok: false, reason: 'locked', lockedNow: true });
    expect(await accounts.users.login('carol', 'carol password 1')).toEqual({ ok: false, reason: 'locked' });
    clock += LOCKOUT_MS + 1;
    expect((await accounts.users.login('carol', 'carol password 1')).ok).toBe(true);
  });

  it('disabled users cannot log in; custom roles combine permissions', async () => {
    accounts.users.setDisabled('alice', true);
    expect(await accounts.users.login('alice', 'correct horse battery')).toEqual({ ok: false, reason: 'disabled' });
    accounts.users.defineRole({ name: 'lab', description: 'lab results', permissions: [{ types: ['Observation'], interactions: ['read', 'create'] }] });
    const u = await accounts.users.add({ username: 'dave', password: 'dave password 1', roles: ['lab'] });
    const rights = accounts.users.rightsOf(u);
    expect(allows(rights.permissions, 'Observation', 'create')).toBe(true);
    expect(allows(rights.permissions, 'Observation', 'delete')).toBe(false);
    expect(allows(rights.permissions, 'Patient', 'read')).toBe(false);
    expect(allows(accounts.users.rightsOf({ ...u, roles: ['contributor'] }).permissions, 'AuditEvent', 'read')).toBe(false);
    expect(allows(accounts.users.rightsOf({ ...u, roles: ['auditor'] }).permissions, 'AuditEvent', 'read')).toBe(true);
  });

  it('keeps no password, username or token in plaintext on disk', async () => {
    const { token } = await accounts.tokens.issueAccess({ sub: CLI_SUBJECT, client_id: CLI_CLIENT_ID, scope: 'user/*.cruds' });
    const refresh = accounts.tokens.issueRefresh({ clientId: 'x', userId: 'y', scope: 'openid' });
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      for (const needle of ['correct horse', 'carol', 'dave', token.slice(-20), refresh]) expect(bytes.includes(needle), `${needle} in ${f}`).toBe(false);
    }
  });
});

describe('scopes', () => {
  it('parses v1 and v2 scopes, with query restrictions', () => {
    const s = parseScopes('openid fhirUser patient/Observation.rs?category=laboratory user/*.read patient/Patient.write launch/patient');
    expect([...s.other].sort()).toEqual(['fhirUser', 'launch/patient', 'openid']);
    expect(grantsFor(s, 'Observation', 'search').map((g) => g.context)).toEqual(['patient', 'user']);
    expect(grantsFor(s, 'Observation', 'search')[0]!.query?.get('category')).toBe('laboratory');
    expect(grantsFor(s, 'Patient', 'delete').map((g) => g.context)).toEqual(['patient']);
    expect(grantsFor(s, 'Encounter', 'create')).toEqual([]);
    expect(parseScopes('user/Observation.sr').grants).toEqual([]); // letters out of order
    expect(parseScopes('user/Observation.read?x=1').grants).toEqual([]); // v1 takes no query
  });

  it('narrows requested scopes to what an app is registered for, granting the covered part of a broader one', () => {
    expect(narrowScopes('openid user/Observation.rs user/Patient.cruds system/*.read', 'openid user/*.rs')).toBe('openid user/Observation.rs user/Patient.rs');
    // A read-only client asking for everything gets reads (SMART lets a server grant less).
    expect(narrowScopes('system/*.cruds', 'system/*.rs')).toBe('system/*.rs');
    expect(narrowScopes('system/*.read', 'system/*.rs')).toBe('system/*.read'); // covered whole: as asked (v1 stays v1)
    expect(narrowScopes('system/*.*', 'system/*.rs')).toBe('system/*.rs'); // covered in part: in v2 letters
    // A type that does not exist grants nothing.
    const known = (t: string) => t === 'Patient';
    expect(narrowScopes('system/Patient.rs system/UnknownResource.read', 'system/*.rs', known)).toBe('system/Patient.rs');
    expect(narrowScopes('system/UnknownResource.read', 'system/*.rs', known)).toBe('');
    expect(narrowScopes('system/*.read', 'system/*.read')).toBe('system/*.read'); // as registered: as written
    // Every type asked, some registered: those types.
    expect(narrowScopes('system/*.rs', 'system/Patient.rs system/Observation.r')).toBe('system/Patient.rs system/Observation.r');
    // Query restrictions: kept when asked, imposed when registered, refused when they differ.
    expect(narrowScopes('user/Observation.rs?category=laboratory', 'user/*.rs')).toBe('user/Observation.rs?category=laboratory');
    expect(narrowScopes('user/Observation.rs', 'user/Observation.rs?category=vital-signs')).toBe('user/Observation.rs?category=vital-signs');
    expect(narrowScopes('user/Observation.rs?category=laboratory', 'user/Observation.rs?category=vital-signs')).toBe('');
    // Nothing in common: nothing; another context never counts; no duplicates, no redundant parts.
    expect(narrowScopes('system/*.cud', 'system/*.rs')).toBe('');
    expect(narrowScopes('user/*.rs', 'system/*.cruds')).toBe('');
    expect(narrowScopes('system/*.rs system/*.rs', 'system/*.cruds system/AuditEvent.rs')).toBe('system/*.rs');
    expect(narrowScopes('system/AuditEvent.rs', 'system/*.cruds system/AuditEvent.rs')).toBe('system/AuditEvent.rs');
  });

  it('caps a backend service at the system scopes its role could use: no write scope for an exporter', () => {
    const role = (name: string) => BUILTIN_ROLES.find((r) => r.name === name)!.permissions;
    expect(systemScopesOf(role('exporter'))).toBe('system/*.rs');
    expect(systemScopesOf(role('importer'))).toBe('system/*.cu');
    expect(systemScopesOf(role('auditor'))).toBe('system/AuditEvent.rs');
    expect(narrowScopes('system/*.cruds', systemScopesOf(role('exporter')))).toBe('system/*.rs');
    expect(systemScopesOf([])).toBe('');
  });
});

describe('tokens', () => {
  it('verifies access tokens until they expire or are revoked', async () => {
    const { token, claims } = await accounts.tokens.issueAccess({ sub: 'u1', client_id: 'app', scope: 'user/*.rs' }, 60);
    expect((await accounts.tokens.verifyAccess(token))?.sub).toBe('u1');
    expect(await accounts.tokens.verifyAccess(token.slice(0, -2) + 'xx')).toBeUndefined();
    clock += 61_000;
    expect(await accounts.tokens.verifyAccess(token)).toBeUndefined();
    clock -= 61_000;
    accounts.tokens.revokeAccess(claims);
    expect(await accounts.tokens.verifyAccess(token)).toBeUndefined();
  });

  it('redeems a code once; a replay fails and revokes the refresh tokens of that grant', () => {
    const grant = { clientId: 'app', userId: 'u2', scope: 'openid offline_access' };
    const code = accounts.tokens.issueCode(grant, 'http://127.0.0.1/cb', 'challenge');
    const first = accounts.tokens.redeemCode(code);
    expect(first && first !== 'replayed' ? first.grant.userId : undefined).toBe('u2');
    const refresh = accounts.tokens.issueRefresh(grant);
    expect(accounts.tokens.redeemCode(code)).toBe('replayed');
    expect(accounts.tokens.rotateRefresh(refresh, 'app')).toBeUndefined();
    expect(accounts.tokens.redeemCode('never-issued')).toBeUndefined();
  });

  it('rotates refresh tokens for their own client only', () => {
    const r = accounts.tokens.issueRefresh({ clientId: 'app', userId: 'u3', scope: 'openid' });
    expect(accounts.tokens.rotateRefresh(r, 'other-app')).toBeUndefined();
    const next = accounts.tokens.rotateRefresh(r, 'app');
    expect(next?.grant.userId).toBe('u3');
    expect(accounts.tokens.rotateRefresh(r, 'app')).toBeUndefined();
    expect(accounts.tokens.rotateRefresh(next!.refresh, 'app')?.grant.userId).toBe('u3');
  });

  it('authenticates CLI, user and revoked-app tokens', async () => {
    const cli = await accounts.tokens.issueAccess({ sub: CLI_SUBJECT, client_id: CLI_CLIENT_ID, scope: 'user/*.cruds' });
    expect((await accounts.authenticate(cli.token))?.admin).toBe(true);
    const app = accounts.apps.add({ name: 'Charts', redirectUris: ['http://127.0.0.1:5000/cb'], scope: 'openid user/*.rs' });
    const dave = accounts.users.byName('dave')!;
    const t = await accounts.tokens.issueAccess({ sub: dave.id, client_id: app.clientId, scope: 'user/*.rs' });
    expect((await accounts.authenticate(t.token))?.username).toBe('dave');
    accounts.users.setDisabled('dave', true);
    expect(await accounts.authenticate(t.token)).toBeUndefined();
    accounts.users.setDisabled('dave', false);
    accounts.apps.revoke(app.clientId);
    expect(await accounts.authenticate(t.token)).toBeUndefined();
    expect(() => accounts.apps.add({ name: 'x', redirectUris: ['http://example.org/cb'], scope: 'openid' })).toThrow(/loopback/);
  });

  it('resolves a token once until auth.db changes, here or in another process; expiry still applies', async () => {
    await accounts.users.add({ username: 'erin', password: 'erin password 123', roles: ['reader'] });
    const erin = accounts.users.byName('erin')!;
    const t = await accounts.tokens.issueAccess({ sub: erin.id, client_id: CLI_CLIENT_ID, scope: 'user/*.rs' }, 60);
    const first = await accounts.authenticate(t.token);
    expect(first?.username).toBe('erin');
    expect(await accounts.authenticate(t.token)).toBe(first); // the same principal: not resolved again
    // Another connection to the same file (a `flint user` command beside the server).
    const other = openAccounts(dataDir(), () => clock);
    try {
      other.users.setDisabled('erin', true);
      expect(await accounts.authenticate(t.token)).toBeUndefined();
      other.users.setDisabled('erin', false);
      const again = await accounts.authenticate(t.token);
      expect(again?.username).toBe('erin');
      other.tokens.revokeAccess(t.claims);
      expect(await accounts.authenticate(t.token)).toBeUndefined();
    } finally {
      other.close();
    }
    const u = await accounts.tokens.issueAccess({ sub: erin.id, client_id: CLI_CLIENT_ID, scope: 'user/*.rs' }, 60);
    expect((await accounts.authenticate(u.token))?.username).toBe('erin');
    clock += 61_000; // past exp: the kept principal is not used
    try {
      expect(await accounts.authenticate(u.token)).toBeUndefined();
    } finally {
      clock -= 61_000;
    }
  });
});
