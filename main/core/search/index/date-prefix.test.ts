/**
 * Every date prefix against hand-computed expectations (docs/search-index.md, "Date
 * prefixes"), for ranges (sp_date) and for points (_lastUpdated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATE_PREFIXES, type DatePrefix } from './date-prefix';
import { openIndexDb, type IndexDb } from './index-db';
import { OPEN_HIGH } from './index-rows';
import { rows, tempIndex, type TempIndex } from './__fixtures__/rows';

const day = (m: number, d: number) => Date.UTC(2024, m - 1, d);
// The search value "2024-03": [qs, qe).
const qs = day(3, 1);
const qe = day(4, 1);

// Each resource's date range, chosen around the edges of March.
const RANGES: Record<string, [number, number]> = {
  A: [day(3, 10), day(3, 11)], // inside
  B: [day(2, 20), day(3, 5)], // sticks out below
  C: [day(3, 25), day(4, 5)], // sticks out above
  D: [day(1, 1), day(2, 1)], // wholly before
  E: [qe, day(4, 2)], // starts exactly where March ends
  F: [day(2, 1), day(5, 1)], // contains March
  G: [qs, qe], // exactly March
  H: [day(2, 28), qs], // ends exactly where March starts
};

const span = ([start, end]: [number, number] | undefined = [0, 0]) => ({ start, end });

const EXPECTED: Record<DatePrefix, string> = {
  eq: 'AG',
  ne: 'BCDEFH',
  gt: 'CEF',
  lt: 'BDFH',
  ge: 'ACEFG',
  le: 'ABDFGH',
  sa: 'E',
  eb: 'DH',
  ap: 'ABCFG', // now inside March: no widening, plain overlap
};

let t: TempIndex;
let index: IndexDb;
beforeAll(() => {
  t = tempIndex();
  index = openIndexDb({ file: t.file, key: t.key });
  for (const [id, [start, end]] of Object.entries(RANGES)) {
    index.replace('Observation', id, '1.ws', day(1, 1), rows({ dates: [{ param: 'date', start, end }] }));
  }
  const points: Record<string, number> = { P1: qs - 1, P2: qs, P3: qe - 1, P4: qe };
  for (const [id, ts] of Object.entries(points)) index.replace('Patient', id, '1.ws', ts, rows({}));
});
afterAll(() => {
  index.close();
  t.cleanup();
});

const ids = (rids: number[]) => index.resolve(rids).map((k) => k.id).join('');

describe('date ranges', () => {
  for (const prefix of DATE_PREFIXES) {
    it(`${prefix}2024-03 matches ${EXPECTED[prefix]}`, () => {
      const now = day(3, 15);
      expect(ids(index.date('Observation', 'date', prefix, qs, qe, now))).toBe(EXPECTED[prefix]);
    });
  }

  it('ap widens the range by 10% of its distance from now', () => {
    // now = June 1: 61 days after March, so ±6.1 days: E (Apr 1-2) and H (Feb 28) come in.
    expect(ids(index.date('Observation', 'date', 'ap', qs, qe, day(6, 1)))).toBe('ABCEFGH');
  });

  it('a resource matches when any of its values does; open ends are unbounded', () => {
    index.replace('Encounter', 'multi', '1', 0, rows({ dates: [{ param: 'date', ...span(RANGES.D) }, { param: 'date', ...span(RANGES.A) }] }));
    index.replace('Encounter', 'open', '1', 0, rows({ dates: [{ param: 'date', start: day(3, 20), end: OPEN_HIGH }] }));
    const enc = (prefix: DatePrefix) => ids(index.date('Encounter', 'date', prefix, qs, qe, day(3, 15)));
    expect([enc('eq'), enc('eb'), enc('gt'), enc('sa'), enc('lt')]).toEqual(['multi', 'multi', 'open', '', 'multi']);
  });

  it('an unknown parameter matches nothing', () => {
    expect(index.date('Observation', 'nope', 'ge', qs, qe)).toEqual([]);
  });
});

describe('_lastUpdated (a point [t, t+1))', () => {
  const POINTS: Record<DatePrefix, string> = {
    eq: 'P2P3',
    ne: 'P1P4',
    gt: 'P4',
    lt: 'P1',
    ge: 'P2P3P4',
    le: 'P1P2P3',
    sa: 'P4',
    eb: 'P1',
    ap: 'P2P3',
  };
  for (const prefix of DATE_PREFIXES) {
    it(`${prefix} matches ${POINTS[prefix]}`, () => {
      expect(ids(index.lastUpdated('Patient', prefix, qs, qe, day(3, 15)))).toBe(POINTS[prefix]);
    });
  }
});
