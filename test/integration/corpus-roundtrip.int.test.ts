/**
 * Every official R4 example: PUT [type]/[id], then GET returns the same resource apart
 * from meta.versionId / meta.lastUpdated, numbers compared by their exact text (`105.00`
 * comes back as `105.00`; 39 examples hold such decimals). Two examples in the package are not valid R4
 * (required elements missing); Flint validates every write, so those two must be
 * rejected with a 400 OperationOutcome naming the missing element, and the test checks
 * independently, in the raw JSON, that the element is really missing.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable, readJson } from '../support/corpus';
import { runFlint } from '../support/flint-process';
import { decimalTextsOf } from '../../shared/fhir/exact-json';
import { FhirClient, exactForm, withoutServerMeta } from '../support/fhir-client';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

interface IndexRow {
  file: string;
  resourceType: string;
  id: string;
}

/** Known-invalid official examples, with a check that reads the raw JSON. */
interface RawExample {
  name?: unknown;
  status?: unknown;
  item?: Array<{ item?: Array<{ linkId?: unknown }> }>;
}

const INVALID: Record<string, { expression: string; reallyMissing: (r: RawExample) => boolean }> = {
  'ImplementationGuide-fhir.json': {
    expression: 'ImplementationGuide.name',
    reallyMissing: (r) => r.name === undefined && r.status === undefined,
  },
  'Questionnaire-qs1.json': {
    expression: 'Questionnaire.item[0].item[0].linkId',
    reallyMissing: (r) => r.item?.[0]?.item?.[0]?.linkId === undefined,
  },
};

const available = corpusAvailable();

describe.runIf(available)('R4 examples round trip', () => {
  let ws: RunningWorkstation;
  let client: FhirClient;
  /** Only an auditor may look for AuditEvents (to see that none was stored). */
  let auditor: FhirClient;
  const rows: IndexRow[] = available
    ? readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as IndexRow)
    : [];

  beforeAll(async () => {
    ws = await startWorkstation();
    client = ws.client();
    const add = await runFlint(['user', 'add', 'aude', '--role', 'auditor', '--data-dir', ws.dataDir], { input: 'aude password 123\n' });
    expect(add.code, add.stderr).toBe(0);
    const token = await runFlint(['token', 'create', '--user', 'aude', '--scope', 'user/AuditEvent.rs', '--data-dir', ws.dataDir]);
    auditor = new FhirClient(ws.baseUrl, token.stdout.trim());
  });
  afterAll(async () => {
    await ws?.stop();
    removeDir(ws.dataDir);
  });

  it('indexes all 743 examples', () => {
    expect(rows).toHaveLength(743);
  });

  it('PUT then GET returns each valid example unchanged; invalid ones and AuditEvents are refused and not stored', async () => {
    const failures: string[] = [];
    let withExactDecimals = 0;
    const queue = [...rows];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const input = readJson<Resource>('r4-examples', row.file);
        const path = `${row.resourceType}/${encodeURIComponent(row.id)}`;
        const put = await client.put(path, input);
        // AuditEvents are written by the audit trail only (docs/audit.md): the API refuses every one.
        if (row.resourceType === 'AuditEvent') {
          expect(put.status, row.file).toBe(405);
          expect((put.body as OperationOutcome).resourceType).toBe('OperationOutcome');
          expect((await auditor.get(path)).status, `${row.file} must not be stored`).toBe(404);
          continue;
        }
        const invalid = INVALID[row.file];
        if (invalid) {
          expect(invalid.reallyMissing(input as RawExample), `${row.file} no longer lacks the element`).toBe(true);
          expect(put.status, row.file).toBe(400);
          const oo = put.body as OperationOutcome;
          expect(oo.resourceType).toBe('OperationOutcome');
          expect(oo.issue.flatMap((i) => i.expression ?? [])).toContain(invalid.expression);
          expect((await client.get(path)).status, `${row.file} must not be stored`).toBe(404);
          continue;
        }
        if (put.status !== 201) {
          failures.push(`${row.file}: PUT ${put.status} ${JSON.stringify(put.body).slice(0, 300)}`);
          continue;
        }
        const got = await client.get(path);
        expect(got.status, row.file).toBe(200);
        expect(got.body.meta?.versionId).toBe(put.body.meta?.versionId);
        expect(got.headers.get('etag')).toBe(`W/"${put.body.meta?.versionId}"`);
        if (decimalTextsOf(input)) withExactDecimals++;
        try {
          expect(exactForm(withoutServerMeta(got.body))).toEqual(exactForm(withoutServerMeta(input)));
        } catch {
          failures.push(`${row.file}: GET differs from the input`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(failures).toEqual([]);
    // Decimals such as 105.00 were compared by their text, not only by value.
    expect(withExactDecimals).toBeGreaterThanOrEqual(30);
  });

  it('lists every stored type with its count', async () => {
    const perType = new Map<string, number>();
    for (const r of rows) if (!INVALID[r.file]) perType.set(r.resourceType, (perType.get(r.resourceType) ?? 0) + 1);
    for (const type of ['Patient', 'Observation', 'Bundle', 'Binary']) {
      const res = await client.get<{ total: number }>(`${type}?_count=1`);
      expect(res.status).toBe(200);
      expect(res.body.total, type).toBe(perType.get(type));
    }
  });
});
