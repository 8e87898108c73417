/**
 * `flint audit verify|export` as an administrator runs them, with the real keychain: events
 * are appended by a child process through the audit log (and the server and CLI add their
 * own), verify passes with and without a server on the data dir, an event edited at the
 * storage level makes verify fail naming its seq, and export prints a filtered range as
 * NDJSON in order.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import keytar from 'keytar';
import { execFile } from 'node:child_process';
import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChild, type ChildScript } from '../../main/core/store/__fixtures__/build-child';
import { editStoredBody } from '../../main/core/audit/__fixtures__/storage';
import { openSqlcipherFile } from '../../main/core/store/sqlcipher-file';
import { runFlint } from '../support/flint-process';
import { forgetDataDir, getMasterKey, KEYCHAIN_SERVICE, workstationIdOf } from '../support/keychain';
import { startWorkstation, tempDataDir } from '../support/workstation';

const FIRST = '2026-03-01T08:00:00.000Z';
const COUNT = 30; // one an hour from FIRST

let writer: ChildScript;
let dataDir: string;

beforeAll(async () => {
  writer = await buildChild(fileURLToPath(new URL('../../main/core/audit/__fixtures__/audit-writer.ts', import.meta.url)));
  dataDir = tempDataDir('flint-audit-cli-');
  const { stdout } = await promisify(execFile)(process.execPath, [writer.script, dataDir, String(COUNT), FIRST, '60'], { env: process.env });
  expect(stdout).toContain(`appended ${COUNT}`);
});

afterAll(async () => {
  writer?.dispose();
  if (dataDir) {
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${workstationIdOf(dataDir)}/audit-head`).catch(() => false);
    await forgetDataDir(dataDir);
  }
});

const audit = (...args: string[]) => runFlint(['audit', ...args, '--data-dir', dataDir]);

/** The audit.db key as the data dir derives it (HKDF of the keychain's master key). */
async function auditKey(): Promise<Buffer> {
  const master = Buffer.from((await getMasterKey(dataDir))!, 'base64');
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'flint/v1/audit', 32));
}

describe('flint audit', () => {
  it('--help prints the usage and exits 0; flint --help lists it', async () => {
    const r = await runFlint(['audit', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/flint audit verify/);
    expect(r.stdout).toMatch(/flint audit export/);
    expect((await runFlint(['--help'])).stdout).toMatch(/\baudit\b/);
    const bad = await audit('export', '--since', 'last tuesday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since/);
  });

  it('verify: exit 0 and the event count on an intact chain, with and without a server on the data dir', async () => {
    const r = await audit('verify');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`OK: ${COUNT} events, chain intact\n`);
    const ws = await startWorkstation({ dataDir });
    try {
      // The server and the CLI record events of their own now (the token the test support mints, its use): more, never fewer.
      const beside = await audit('verify');
      expect(beside.code, beside.stderr).toBe(0);
      const n = Number(/^OK: (\d+) events, chain intact\n$/.exec(beside.stdout)?.[1]);
      expect(n).toBeGreaterThan(COUNT);
      expect((await audit('export')).stdout.trim().split('\n')).toHaveLength(n);
    } finally {
      await ws.stop();
    }
  });

  it('export: NDJSON AuditEvents from --since (inclusive) until --until (exclusive), in order', async () => {
    const r = await audit('export', '--since', '2026-03-01T10:00:00Z', '--until', '2026-03-01T15:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe(''); // newline-terminated
    const events = lines.map((l) => JSON.parse(l) as AuditEvent);
    const ws = workstationIdOf(dataDir);
    expect(events.map((e) => e.id)).toEqual([3, 4, 5, 6, 7].map((seq) => `${ws}-${seq}`));
    expect(events.map((e) => e.recorded)).toEqual(['10', '11', '12', '13', '14'].map((h) => `2026-03-01T${h}:00:00.000Z`));
    expect(events.every((e) => e.resourceType === 'AuditEvent')).toBe(true);
    const day = await audit('export', '--since', '2026-03-02', '--until', '2026-03-03');
    expect(day.stdout.trim().split('\n')).toHaveLength(COUNT - 16); // 2026-03-02T00:00 is event 17
  });

  it('verify: exit 1 naming the seq of an event edited at the storage level', async () => {
    const db = openSqlcipherFile(join(dataDir, 'audit.db'), await auditKey(), { synchronous: 'FULL', what: 'the test' });
    try {
      // What someone with the key and a SQLite shell can do: decode the body, edit, store it back.
      editStoredBody(db, 12, (body) => {
        expect(body).toContain('Patient/p11');
        return body.replace('Patient/p11', 'Patient/p0');
      });
    } finally {
      db.close();
    }
    const r = await audit('verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 12: .*hash/);
    expect(r.stdout).not.toMatch(/Patient/); // problems never quote content
  });
});
