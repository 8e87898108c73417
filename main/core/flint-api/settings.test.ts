/** `/flint/settings` and `settings.json`, transport-free (over HTTP: test/integration/ui-session.int.test.ts). */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '../audit/recorder';
import type { SecurityRecord } from '../audit/types';
import type { Principal } from '../auth/principal';
import { parseScopes } from '../auth/scopes';
import { createSettingsRoute, readUiSettings, SETTINGS_FILE } from './settings';
import type { FlintRoute } from './types';

let dir: string;
let records: SecurityRecord[];
let route: FlintRoute;

const principal = (admin: boolean): Principal => ({
  subject: 'u1', username: 'ann', clientId: 'flint-ui', scopes: parseScopes('user/*.cruds'), permissions: [], admin, tokenId: 'j1',
}); // prettier-ignore

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-settings-'));
  records = [];
  const audit = { record: async (rs: SecurityRecord[]) => void records.push(...rs) } as unknown as AuditRecorder;
  route = createSettingsRoute({ dataDir: dir, audit });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (body: unknown, admin = true) => route.handle({ method: 'PUT', path: ['settings'], query: new URLSearchParams(), body, principal: principal(admin), address: '127.0.0.1' });
const get = () => route.handle({ method: 'GET', path: ['settings'], query: new URLSearchParams(), principal: principal(false) });

describe('/flint/settings', () => {
  it('defaults to 15 minutes; an admin changes it, atomically, and it is audited', async () => {
    expect(await get()).toEqual({ status: 200, body: { idleLockMinutes: 15 } });
    expect(await put({ idleLockMinutes: 30 })).toEqual({ status: 200, body: { idleLockMinutes: 30 } });
    expect(await get()).toEqual({ status: 200, body: { idleLockMinutes: 30 } });
    expect(JSON.parse(readFileSync(join(dir, SETTINGS_FILE), 'utf8'))).toEqual({ idleLockMinutes: 30 });
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE]); // no temporary file left
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'settings-changed', ok: true, subject: 'settings', detail: 'idleLockMinutes 15 -> 30', agent: { userId: 'u1', username: 'ann', clientId: 'flint-ui', address: '127.0.0.1' } });
  });

  it('refuses non-admins and bad values, changing nothing', async () => {
    await expect(put({ idleLockMinutes: 20 }, false)).rejects.toMatchObject({ status: 403 });
    for (const bad of [{ idleLockMinutes: 0 }, { idleLockMinutes: 241 }, { idleLockMinutes: 2.5 }, { idleLockMinutes: '20' }, {}, [], null, { idleLockMinutes: 20, theme: 'dark' }]) {
      await expect(put(bad), JSON.stringify(bad)).rejects.toMatchObject({ status: 400 });
    }
    expect(await put({ idleLockMinutes: 240 })).toMatchObject({ body: { idleLockMinutes: 240 } });
    expect(await put({ idleLockMinutes: 1 })).toMatchObject({ body: { idleLockMinutes: 1 } });
    expect(records).toHaveLength(2);
    await expect(route.handle({ method: 'POST', path: ['settings'], query: new URLSearchParams(), principal: principal(true) })).rejects.toMatchObject({ status: 405 });
  });

  it('reads a damaged file as the defaults', () => {
    writeFileSync(join(dir, SETTINGS_FILE), '{"idleLockMinutes": ');
    expect(readUiSettings(dir)).toEqual({ idleLockMinutes: 15 });
    writeFileSync(join(dir, SETTINGS_FILE), '{"idleLockMinutes": 9999}');
    expect(readUiSettings(dir)).toEqual({ idleLockMinutes: 15 });
  });
});
