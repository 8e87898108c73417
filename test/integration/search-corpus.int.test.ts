/**
 * Every R4 example, every applicable search parameter: each value the parameter's
 * FHIRPath expression extracts from the stored example becomes a search value
 * (test/support/search-values.ts, independent of the server's extraction), and
 * `[type]?_id=<id>&<code>=<value>` must find the example. The AND with `_id` keeps each
 * query exact and cheap. `Prefer: handling=strict` makes an unsupported parameter or
 * modifier a 400 instead of being ignored, which would let `_id` alone pass the check.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable, readJson } from '../support/corpus';
import { FhirClient } from '../support/fhir-client';
import { loadSearchDefinitions } from '../support/search-definitions';
import { extractChecks, type Check } from '../support/search-values';
import { removeDir, startWorkstation, type RunningWorkstation } from '../support/workstation';

/** Not valid R4 (required elements missing): the server must reject them (corpus-roundtrip checks why). */
const INVALID = ['ImplementationGuide-fhir.json', 'Questionnaire-qs1.json'];
const IN_FLIGHT = 8;
/** Extracted values that give no search (contained or display-only references, ...), at most. */
const MAX_SKIP_SHARE = 0.05;

interface IndexRow {
  file: string;
  resourceType: string;
  id: string;
}

interface Failure extends Check {
  status: number;
  total: number | undefined;
  message: string | undefined;
}

/** Runs `fn` over `items` with at most `n` calls in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

const queryOf = (c: Check): string =>
  `${c.type}?_id=${encodeURIComponent(c.id)}&${c.code}${c.modifier ? `:${c.modifier}` : ''}=${encodeURIComponent(c.value)}&_summary=count`;

const paramOf = (f: Check): string => `${f.type}.${f.code}${f.modifier ? `:${f.modifier}` : ''}`;

/** Failures grouped by parameter type, then `Type.code`, with a count, the statuses and one example each. */
function summarize(failures: Failure[], checks: number): string {
  const byType = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = `${f.paramType}${f.modifier ? `:${f.modifier}` : ''}`;
    byType.set(key, [...(byType.get(key) ?? []), f]);
  }
  const lines = [`${failures.length} of ${checks} searches did not find their resource`];
  for (const [type, list] of [...byType].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`${type}: ${list.length}`);
    const byParam = new Map<string, Failure[]>();
    for (const f of list) byParam.set(paramOf(f), [...(byParam.get(paramOf(f)) ?? []), f]);
    const groups = [...byParam].sort((a, b) => b[1].length - a[1].length);
    for (const [param, fs] of groups.slice(0, 25)) {
      const statuses = [...new Set(fs.map((f) => (f.status === 200 ? `total ${f.total}` : `${f.status}`)))].join(', ');
      const ex = fs[0] as Failure;
      const why = ex.message ? ` -> ${ex.message.slice(0, 120)}` : '';
      lines.push(`  ${param} x${fs.length} (${statuses}) e.g. ${ex.id}: ${JSON.stringify(ex.value).slice(0, 100)}${why}`);
    }
    if (groups.length > 25) lines.push(`  ... and ${groups.length - 25} more parameters`);
  }
  return lines.join('\n');
}

const available = corpusAvailable();

describe.runIf(available)('search by every value of every R4 example', () => {
  let ws: RunningWorkstation;
  let client: FhirClient;
  const rejected: string[] = [];
  const refusedAudit: string[] = [];
  let auditExamples = 0;
  const unexpected: string[] = [];
  const checks: Check[] = [];
  const skipped = new Map<string, number>();
  let extracted = 0;

  beforeAll(async () => {
    ws = await startWorkstation();
    client = ws.client();
    const rows = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as IndexRow);
    auditExamples = rows.filter((r) => r.resourceType === 'AuditEvent').length;
    const stored: Record<string, unknown>[] = [];
    await pool(rows, IN_FLIGHT, async (row) => {
      const put = await client.put(`${row.resourceType}/${encodeURIComponent(row.id)}`, readJson<Resource>('r4-examples', row.file));
      if (put.status === 201) stored.push(put.body as unknown as Record<string, unknown>);
      else if (put.status === 400) rejected.push(row.file);
      else if (put.status === 405 && row.resourceType === 'AuditEvent') refusedAudit.push(row.file); // written by the audit trail only
      else unexpected.push(`${row.file}: PUT ${put.status}`);
    });
    // Values come from the resource as stored: meta.lastUpdated is the server's.
    const defs = loadSearchDefinitions();
    for (const resource of stored) {
      const e = extractChecks(defs, resource);
      checks.push(...e.checks);
      extracted += e.extracted;
      for (const [why, n] of e.skipped) skipped.set(why, (skipped.get(why) ?? 0) + n);
    }
  }, 180_000);
  afterAll(async () => {
    await ws?.stop();
    removeDir(ws.dataDir);
  });

  it('stores every example except the two invalid ones (400) and the AuditEvents (405: the audit trail writes those)', () => {
    expect(unexpected).toEqual([]);
    expect(rejected.sort()).toEqual(INVALID);
    expect(auditExamples).toBeGreaterThan(0);
    expect(refusedAudit.length).toBe(auditExamples);
  });

  it('turns nearly every extracted value into a search value', () => {
    const skips = [...skipped.values()].reduce((a, b) => a + b, 0);
    const reasons = [...skipped].sort((a, b) => b[1] - a[1]).map(([why, n]) => `  ${n} ${why}`);
    console.log(`${extracted} values extracted, ${checks.length} searches, ${skips} values skipped:\n${reasons.join('\n')}`);
    expect(extracted).toBeGreaterThan(5000);
    expect(skips / extracted).toBeLessThan(MAX_SKIP_SHARE);
  });

  it('finds each example by every value extracted from it', async () => {
    const failures: Failure[] = [];
    const started = performance.now();
    await pool(checks, IN_FLIGHT, async (c) => {
      const res = await client.get<{ total?: number } & Partial<OperationOutcome>>(queryOf(c), { prefer: 'handling=strict' });
      if (res.status === 200 && res.body.total === 1) return;
      const message = res.body?.issue?.map((i) => i.diagnostics ?? i.details?.text ?? '').join('; ');
      failures.push({ ...c, status: res.status, total: res.body?.total, message });
    });
    console.log(`${checks.length} searches in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const summary = summarize(failures, checks.length);
    if (failures.length > 0) console.log(summary);
    expect(failures.length, summary).toBe(0);
  }, 300_000);
});
