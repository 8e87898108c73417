/** `GET /flint/session`: who the caller is and what it may do (over HTTP: test/integration/ui-session.int.test.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal';
import { BUILTIN_ROLES } from '../auth/roles';
import { parseScopes } from '../auth/scopes';
import { FLINT_VERSION } from '../fhir/capability-statement';
import { createSessionRoute } from './session';
import { writeUiSettings } from './settings';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-session-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const role = (name: string) => BUILTIN_ROLES.find((r) => r.name === name)!;
const as = (roles: string[], scope: string, extra: Partial<Principal> = {}): Principal => ({
  subject: 'u1', username: 'ann', clientId: 'flint-ui', scope, scopes: parseScopes(scope), roles,
  permissions: roles.flatMap((r) => role(r).permissions), admin: roles.includes('admin'), tokenId: 'j1', ...extra,
}); // prettier-ignore

const session = (p: Principal) => createSessionRoute({ dataDir: dir, workstationId: 'ws1234' }).handle({ method: 'GET', path: ['session'], query: new URLSearchParams(), principal: p });

describe('/flint/session', () => {
  it('describes the user, the token and the settings', async () => {
    writeUiSettings(dir, { idleLockMinutes: 7 });
    const r = await session(as(['reader'], 'openid fhirUser offline_access user/*.cruds', { fhirUser: 'Practitioner/1' }));
    expect(r).toEqual({
      status: 200,
      body: {
        username: 'ann', roles: ['reader'], admin: false, fhirUser: 'Practitioner/1', clientId: 'flint-ui',
        scopes: ['openid', 'fhirUser', 'offline_access', 'user/*.cruds'],
        permissions: [{ types: ['*'], interactions: ['read', 'search', 'history', 'operation'] }],
        idleLockMinutes: 7, workstationId: 'ws1234', version: FLINT_VERSION,
      },
    }); // prettier-ignore
  });

  it('gives the roles narrowed by the scopes', async () => {
    const body = async (p: Principal) => (await session(p)) as { body: { permissions: unknown; admin: boolean } };
    expect((await body(as(['auditor'], 'user/*.cruds'))).body.permissions).toEqual([{ types: ['AuditEvent'], interactions: ['read', 'search'] }]);
    // A type-specific scope under a role's `*`; AuditEvent stays outside `*`.
    expect((await body(as(['writer'], 'user/Observation.rs user/AuditEvent.rs'))).body.permissions).toEqual([{ types: ['Observation'], interactions: ['read', 'search', 'history', 'operation'] }]);
    const admin = await body(as(['admin'], 'user/*.cruds'));
    expect(admin.body.admin).toBe(true);
    expect(admin.body.permissions).toEqual([
      { types: ['*'], interactions: ['read', 'search', 'history', 'create', 'update', 'patch', 'delete', 'operation'] },
      { types: ['AuditEvent'], interactions: ['read', 'search'] },
    ]);
    expect((await body(as(['reader'], 'openid'))).body.permissions).toEqual([]);
  });

  it('only answers GET /flint/session', async () => {
    const route = createSessionRoute({ dataDir: dir, workstationId: 'ws1234' });
    await expect(route.handle({ method: 'POST', path: ['session'], query: new URLSearchParams(), principal: as(['reader'], '') })).rejects.toMatchObject({ status: 405 });
    await expect(route.handle({ method: 'GET', path: ['session', 'x'], query: new URLSearchParams(), principal: as(['reader'], '') })).rejects.toMatchObject({ status: 404 });
    expect(route.isPublic).toBeUndefined();
  });
});
