/**
 * Extraction over outside data: every official R4 example and the Synthea bundles. It
 * proves extraction never throws, that a parameter whose expression finds values almost
 * always yields rows (the rest are listed), and prints the extraction speed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable, listJson, readJson } from '../../../../test/support/corpus';
import { loadDefinitions } from '../../fhir/definitions';
import { ExpressionCache } from './expressions';
import { createExtractor, type Extractor } from './extract';
import type { IndexRows } from './rows';
import { toValues, type FhirValue } from './values';

interface IndexLine {
  file: string;
  resourceType: string;
}

const KINDS = ['strings', 'tokens', 'references', 'dates', 'numbers', 'quantities', 'uris', 'composites'] as const;

/**
 * Values that exist but carry nothing a search could match: a Reference with only a
 * display, a Timing with only a repeat rule (R4 indexes a Timing by its outer limits),
 * SampledData.
 */
function unindexable(v: FhirValue): boolean {
  const o = (v.value ?? {}) as Record<string, unknown>;
  if (v.type === 'Reference') return !o.reference && !(o.identifier as { value?: unknown } | undefined)?.value;
  // R4 gives no quantity semantics for SampledData (Observation value-quantity includes it).
  if (v.type === 'SampledData') return true;
  if (v.type === 'Timing') return !o.event && !(o.repeat as { boundsPeriod?: unknown } | undefined)?.boundsPeriod;
  return false;
}

function paramsWithRows(rows: IndexRows): Set<string> {
  const out = new Set<string>();
  for (const k of KINDS) for (const r of rows[k]) out.add(r.param);
  return out;
}

describe.runIf(corpusAvailable())('search row extraction over the FHIR corpus', () => {
  const defs = loadDefinitions();
  const expressions = new ExpressionCache();
  let extractor: Extractor;
  beforeAll(() => {
    extractor = createExtractor(defs);
  });

  /** Whether every value the param's expression finds is one that cannot give a row. */
  const explained = (resource: Record<string, unknown>, code: string): boolean => {
    const p = defs.searchParams(String(resource.resourceType)).get(code);
    if (!p) return false;
    const values = toValues(expressions.get(p.expression)(resource, { resource }));
    return values.length > 0 && values.every(unindexable);
  };

  it('extracts rows from every R4 example, for nearly every param that has values', () => {
    const lines = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as IndexLine);
    expect(lines.length).toBeGreaterThanOrEqual(743);
    const resources = lines.map((l) => readJson<Record<string, unknown>>('r4-examples', l.file));
    const counts: Record<string, number> = Object.fromEntries(KINDS.map((k) => [k, 0]));
    let pairs = 0;
    const exceptions: string[] = [];
    let explainedCount = 0;
    const started = performance.now();
    for (const [i, resource] of resources.entries()) {
      let rows: IndexRows | undefined;
      expect(() => (rows = extractor.extract(resource))).not.toThrow();
      if (!rows) continue;
      for (const k of KINDS) counts[k] = (counts[k] ?? 0) + rows[k].length;
      const withRows = paramsWithRows(rows);
      for (const code of rows.present) {
        pairs++;
        if (withRows.has(code)) continue;
        if (explained(resource, code)) explainedCount++;
        else exceptions.push(`${lines[i]?.resourceType}.${code} (${lines[i]?.file})`);
      }
    }
    const ms = performance.now() - started;
    const share = pairs === 0 ? 0 : 1 - exceptions.length / (pairs - explainedCount);
    console.log(`R4 examples: ${resources.length} resources in ${ms.toFixed(0)} ms (${((resources.length / ms) * 1000).toFixed(0)} resources/s)`);
    console.log('rows per kind:', counts);
    console.log(
      `(resource, param) pairs with values: ${pairs}; ${explainedCount} hold only display-only references, repeat-only ` +
        `Timings or SampledData; of the rest, ${(share * 100).toFixed(2)}% give rows`,
    );
    if (exceptions.length) console.log(`pairs with values but no rows (${exceptions.length}):\n  ${exceptions.join('\n  ')}`);
    const failures = [...extractor.failures].map(([k, n]) => `${k}: ${n}`);
    if (failures.length) console.log(`expression failures:\n  ${failures.join('\n  ')}`);
    expect(share).toBeGreaterThanOrEqual(0.99);
    // Failing expressions must stay rare: a handful of (type, param) keys at most.
    expect(failures.length).toBeLessThanOrEqual(5);
  });

  it('prints the extraction speed over the Synthea bundles', () => {
    const files = listJson('synthea', 'smart-2019');
    const bundles = files.map((f) => readJson<{ entry?: { resource?: unknown }[] }>('synthea', 'smart-2019', f));
    const resources = bundles.flatMap((b) => (b.entry ?? []).map((e) => e.resource));
    let rowCount = 0;
    const started = performance.now();
    for (const r of resources) {
      const rows = extractor.extract(r);
      for (const k of KINDS) rowCount += rows[k].length;
    }
    const ms = performance.now() - started;
    console.log(
      `Synthea smart-2019: ${files.length} bundles, ${resources.length} resources, ${rowCount} rows in ${ms.toFixed(0)} ms ` +
        `(${((resources.length / ms) * 1000).toFixed(0)} resources/s)`,
    );
    expect(resources.length).toBeGreaterThan(0);
  });
});
