/**
 * EXPLAIN QUERY PLAN of every SQL text the number, quantity, composite, token :text and
 * :of-type, reference :identifier and :missing primitives run (docs/search-index.md, "Queries"):
 * each table is reached through the index named here, never by a scan.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATE_PREFIXES } from './date-prefix';
import { createQueries, type IndexQueries, type QuantityUnit } from './index-queries';
import { ensureSchema } from './schema';

let db: Database.Database;
let q: IndexQueries;
let plans: string[][];

beforeAll(() => {
  db = new Database(':memory:');
  ensureSchema(db);
  q = createQueries({
    all<T>(sql: string, ...args: unknown[]): T[] {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
      plans.push(plan.map((p) => p.detail));
      return db.prepare(sql).all(...args) as T[];
    },
    pid: () => 1,
  });
});
afterAll(() => db.close());

/** The plan lines of the statements `run` executed. */
function planOf(run: () => unknown): string[] {
  plans = [];
  run();
  return plans.flat();
}

/** Every table access is an index SEARCH, and every line naming an index names one of `indexes`. */
function expectIndexed(lines: string[], indexes: RegExp): void {
  const access = lines.filter((l) => /^(SCAN|SEARCH) /.test(l));
  expect(access.length, lines.join('\n')).toBeGreaterThan(0);
  for (const line of access) {
    expect(line, lines.join('\n')).toMatch(/^SEARCH \S+( AS \S+)? USING (COVERING )?INDEX /);
    expect(line, lines.join('\n')).toMatch(indexes);
  }
}

const UNITS: Array<[QuantityUnit, RegExp]> = [
  [{ match: 'code', system: 'http://unitsofmeasure.org', code: 'mg' }, /COVERING INDEX sp_quantity_code \(pid=\? AND code=\? AND system=\?/],
  [{ match: 'canonical', code: 'g' }, /COVERING INDEX sp_quantity_canonical \(pid=\? AND canonical_code=\?/],
  [{ match: 'code-or-unit', unit: 'mg' }, /COVERING INDEX sp_quantity_(code \(pid=\? AND code=\?|unit \(pid=\? AND unit=\?)/],
  [{ match: 'system', system: 'http://unitsofmeasure.org' }, /COVERING INDEX sp_quantity_code \(pid=\?/],
  [{ match: 'any' }, /COVERING INDEX sp_quantity_code \(pid=\?/],
];

describe('query plans', () => {
  it.each([false, true])(':missing=%s: every row table through an index starting with pid, no scan', (missing) => {
    const lines = planOf(() => q.missing('Observation', 'subject', missing));
    const access = lines.filter((l) => /^(SCAN|SEARCH) /.test(l));
    expect(access.length, lines.join('\n')).toBeGreaterThanOrEqual(9);
    for (const line of access) expect(line, lines.join('\n')).toMatch(/^SEARCH \S+ USING (COVERING INDEX \w+|PRIMARY KEY) \((pid|type)=\?\)/);
  });

  it.each(DATE_PREFIXES)('number %s: sp_number_low or sp_number_high, covering', (prefix) => {
    expectIndexed(planOf(() => q.number('RiskAssessment', 'probability', { prefix, low: 99.5, high: 100.5 })), /COVERING INDEX sp_number_(low|high) \(pid=\?/);
  });

  it.each(DATE_PREFIXES)('quantity %s: the index of the unit form, covering', (prefix) => {
    for (const [unit, index] of UNITS) expectIndexed(planOf(() => q.quantity('Observation', 'value-quantity', { prefix, low: 1, high: 2, unit })), index);
  });

  it('quantity prefixes seek on the bound when the unit is fixed', () => {
    const lines = planOf(() => q.quantity('Observation', 'value-quantity', { prefix: 'eq', low: 1, high: 2, unit: UNITS[0]![0] }));
    expect(lines.join('\n')).toMatch(/system=\? AND low>\? AND low<\?\)/);
  });

  it('composite: component 0 through sp_composite_first, the others through sp_composite_element', () => {
    const lines = planOf(() =>
      q.composite('Observation', 'component-code-value-quantity', [
        { type: 'token', q: { system: 'http://loinc.org', code: '8480-6' } },
        { type: 'quantity', q: { prefix: 'gt', low: 100, high: 100, unit: { match: 'canonical', code: 'g.m-1.s-2' } } },
      ]),
    );
    expectIndexed(lines, /sp_composite_(first|element)/);
    expect(lines[0]).toMatch(/^SEARCH c0 USING COVERING INDEX sp_composite_first \(pid=\? AND pos=\? AND code=\? AND system=\?\)/);
    expect(lines[1]).toMatch(/^SEARCH c1 USING INDEX sp_composite_element \(rid=\? AND pid=\? AND grp=\? AND pos=\?\)/);
    const three = planOf(() =>
      q.composite('MolecularSequence', 'chromosome-variant-coordinate', [
        { type: 'token', q: { code: '1' } },
        { type: 'number', q: { prefix: 'ge', low: 300, high: 300 } },
        { type: 'number', q: { prefix: 'ne', low: 399.5, high: 400.5 } },
      ]),
    );
    expectIndexed(three, /sp_composite_(first|element)/);
    expect(three.filter((l) => l.includes('sp_composite_element'))).toHaveLength(2);
    // A token as the second component: looked up per element, not walked by its code.
    const referenceFirst = planOf(() =>
      q.composite('DocumentReference', 'relationship', [
        { type: 'reference', q: { targetType: 'DocumentReference', targetId: 'd1' } },
        { type: 'token', q: { code: 'replaces' } },
      ]),
    );
    expectIndexed(referenceFirst, /sp_composite_(first|element)/);
    expect(referenceFirst[1]).toMatch(/^SEARCH c1 USING INDEX sp_composite_element \(rid=\? AND pid=\? AND grp=\? AND pos=\?\)/);
  });

  it('token :text and :of-type, reference :identifier: their partial indexes', () => {
    expectIndexed(planOf(() => q.tokenText('Condition', 'code', 'head')), /COVERING INDEX sp_token_text \(pid=\? AND text>\? AND text<\?\)/);
    expectIndexed(
      planOf(() => q.tokenOfType('Patient', 'identifier', { typeSystem: 'http://v2', typeCode: 'MR', value: '1' })),
      /COVERING INDEX sp_token_of_type \(pid=\? AND code=\? AND of_type_code=\? AND of_type_system=\?\)/,
    );
    const identifier = /COVERING INDEX sp_reference_identifier \(pid=\? AND identifier_value/;
    expectIndexed(planOf(() => q.referenceIdentifier('Observation', 'subject', { system: 'http://sys', code: '1' })), identifier);
    expectIndexed(planOf(() => q.referenceIdentifier('Observation', 'subject', { code: '1' })), identifier);
    expectIndexed(planOf(() => q.referenceIdentifier('Observation', 'subject', { system: null, code: '1' })), identifier);
    expectIndexed(planOf(() => q.referenceIdentifier('Observation', 'subject', { system: 'http://sys' })), identifier);
  });
});
