/**
 * /flint/audit on a real audit log and its search index (temp dir, in-memory keychain):
 * who may use it (the access policy's AuditEvent search), verify on an intact and an
 * edited chain, and the export: the FHIR search's criteria, every match oldest first,
 * refused parameters, and its own record in the trail (fail closed).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../../../shared/api/audit';
import { FhirError } from '../../../shared/fhir/outcome';
import type { Principal } from '../auth/principal';
import { BUILTIN_ROLES } from '../auth/roles';
import { parseScopes } from '../auth/scopes';
import { auditEvent, MemorySecretStore } from '../audit/__fixtures__/events';
import { editStoredBody, rawAuditDb } from '../audit/__fixtures__/storage';
import { AuditLog } from '../audit/audit-log';
import { AuditReadStore, openAuditIndex, type AuditIndex } from '../audit/audit-reader';
import type { AuditRecorder } from '../audit/recorder';
import type { AccessRecord, SecurityRecord, SyncRecord } from '../audit/types';
import { loadDefinitions } from '../fhir/definitions';
import { IndexSearch } from '../search/index-search';
import { createAuditRoute, type AuditApiOptions } from './audit-api';
import type { FlintApiResponse } from './types';

const WS = 'ab12cd';
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const COUNT = 40;

let dir: string;
let log: AuditLog;
let index: AuditIndex;
let key: Buffer;
const secrets = new MemorySecretStore();
const records: Array<AccessRecord | SecurityRecord | SyncRecord> = [];
let failRecording = false;
const audit: AuditRecorder = {
  record: async (r) => {
    if (failRecording) throw new Error('audit log full');
    records.push(...r);
  },
};

const principal = (role: string, scope: string, extra: Partial<Principal> = {}): Principal =>
  ({
    subject: `id-${role}`,
    username: role,
    clientId: 'flint-ui',
    scopes: parseScopes(scope),
    permissions: BUILTIN_ROLES.find((r) => r.name === role)!.permissions,
    admin: role === 'admin',
    tokenId: 't1',
    ...extra,
  }) as Principal;
const AUDITOR = principal('auditor', 'user/AuditEvent.rs');

let options: AuditApiOptions;
const call = (path: string, query = '', who = AUDITOR, o = options): Promise<FlintApiResponse> =>
  createAuditRoute(o).handle({ method: 'GET', path: ['audit', ...path.split('/')], query: new URLSearchParams(query), principal: who });

async function refusal(p: Promise<unknown>): Promise<FhirError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FhirError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const lines = (r: FlintApiResponse) => String((r as { raw: string }).raw).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flint-audit-api-'));
  key = randomBytes(32);
  log = await AuditLog.open({ file: join(dir, 'audit.db'), key, workstationId: WS, secrets, headAccount: `${WS}/audit-head` });
  // Event i reads Patient/p(i % 4), one a minute; every fifth failed.
  await log.append(
    Array.from({ length: COUNT }, (_, i) => ({ ...auditEvent(new Date(T0 + i * 60_000), `p${i % 4}`), outcome: i % 5 === 0 ? ('4' as const) : ('0' as const) })),
  );
  const defs = loadDefinitions();
  index = openAuditIndex(join(dir, 'audit-index.db'), randomBytes(32), log, defs);
  options = { log, view: { store: new AuditReadStore(log), search: new IndexSearch(index.index), ready: () => index.catchUp() }, defs: () => defs, audit, now: () => new Date('2026-06-01T00:00:00Z') };
});
afterAll(async () => {
  index?.close();
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('who may', () => {
  it('whoever may search AuditEvents: the auditor and the admin; not a reader, not a confined grant', async () => {
    expect((await call('verify')).status).toBe(200);
    expect((await call('verify', '', principal('admin', 'user/*.cruds'))).status).toBe(200);
    for (const who of [principal('reader', 'user/*.rs'), principal('auditor', 'user/Patient.rs')]) {
      expect((await refusal(call('verify', '', who))).status).toBe(403);
      expect((await refusal(call('export', '', who))).status).toBe(403);
    }
    const confined = principal('auditor', 'patient/AuditEvent.rs', { patient: 'p1' });
    expect((await refusal(call('export', '', confined))).status).toBe(403);
    expect((await refusal(call('nothing'))).status).toBe(404);
  });
});

describe('GET /flint/audit/verify', () => {
  it('reports an intact chain with its event count', async () => {
    const body = (await call('verify')) as { status: number; body: AuditVerification };
    expect(body.body).toEqual({ ok: true, events: COUNT, checkedAt: '2026-06-01T00:00:00.000Z', journalPending: 0 });
  });
});

describe('GET /flint/audit/export', () => {
  it('exports exactly what the AuditEvent search finds, as NDJSON, oldest first', async () => {
    const r = await call('export', 'patient=Patient/p1&outcome=0&date=ge2026-03-01T08:10:00Z&date=lt2026-03-01T08:30:00Z&_sort=-date&_count=5');
    expect(r.status).toBe(200);
    expect((r as { contentType: string }).contentType).toBe('application/fhir+ndjson');
    const got = lines(r);
    // i in [10, 30), i % 4 == 1, i % 5 != 0: 13, 17, 21, 29 (25 failed).
    expect(got.map((e) => e.id)).toEqual([13, 17, 21, 29].map((i) => `${WS}-${i + 1}`));
    expect(got.every((e) => e.resourceType === 'AuditEvent' && e.meta?.versionId === '1')).toBe(true);
    expect(lines(await call('export'))).toHaveLength(COUNT);
    expect((r as { raw: string }).raw.endsWith('\n')).toBe(true);
    expect((await call('export', 'patient=Patient/nobody')) as { raw: string }).toMatchObject({ status: 200, raw: '' });
  });

  it('refuses parameters AuditEvent search does not know, bad values and result shaping, with 400', async () => {
    for (const q of ['nonsense=1', 'date=not-a-date', '_include=AuditEvent:agent', '_summary=count', '_elements=id', 'patient=']) {
      const e = await refusal(call('export', q));
      expect(e.status, q).toBe(400);
      expect(e.outcome.resourceType).toBe('OperationOutcome');
    }
  });

  it('is recorded as an operation on AuditEvent with its query and patients, refused attempts too', async () => {
    records.length = 0;
    await call('export', 'patient=Patient/p2');
    await refusal(call('export', '', principal('reader', 'user/*.rs')));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ interaction: 'operation', operation: 'audit-export', type: 'AuditEvent', query: 'patient=Patient%2Fp2', status: 200, patients: ['p2'], agent: { username: 'auditor', clientId: 'flint-ui' } });
    expect(records[1]).toMatchObject({ operation: 'audit-export', status: 403, patients: [] });
  });

  it('exports nothing when its record cannot be written (fail closed)', async () => {
    failRecording = true;
    try {
      expect((await refusal(call('export'))).status).toBe(500);
    } finally {
      failRecording = false;
    }
  });
});

describe('GET /flint/audit/verify on an edited chain', () => {
  it('reports the first changed event, naming its seq and no content', async () => {
    const db = rawAuditDb(join(dir, 'audit.db'), key);
    try {
      editStoredBody(db, 12, (body) => body.replace('Patient/p3', 'Patient/p0'));
    } finally {
      db.close();
    }
    // A fresh reader: the open log keeps recently decoded blocks.
    const reader = await AuditLog.open({ file: join(dir, 'audit.db'), key, workstationId: WS, secrets, headAccount: `${WS}/audit-head`, readOnly: true });
    try {
      const r = (await call('verify', '', AUDITOR, { ...options, log: reader })) as { status: number; body: AuditVerification };
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, seq: 12, events: 11 });
      expect(r.body.problem).toMatch(/^event 12: .*hash/);
      expect(r.body.problem).not.toMatch(/Patient/);
    } finally {
      await reader.close();
    }
  });
});
