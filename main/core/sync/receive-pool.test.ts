/**
 * The receive pool (receive-pool.ts) on a real worker thread: the built worker
 * (dist/receive-worker.js; `npm test` builds before it tests) must give exactly what the
 * validator and the search row extractor give on the calling thread, prechecked or not,
 * and a worker that dies, or is not there, must cost nothing but speed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until';
import { REPO } from '../../../test/support/workstation';
import { loadDefinitions } from '../fhir/definitions';
import { createValidator, errorReasons } from '../fhir/validation/validator';
import { createExtractor } from '../search/extract/extract';
import { VALIDATOR_FAILED, WORKER_MIN, createReceivePool, type ReceivePool } from './receive-pool';
import { parseJson } from '../../../shared/fhir/exact-json';

const WORKER = join(REPO, 'dist', 'receive-worker.js');
const validator = createValidator();
const extractor = createExtractor(loadDefinitions());
const here = (r: Resource) => errorReasons(validator.validate(r));
const meta = (vid: string) => ({ versionId: vid, lastUpdated: '2026-01-01T00:00:00.000Z' });

const resources = (): Resource[] => [
  { resourceType: 'Patient', id: 'ok', meta: meta('1.ws'), name: [{ family: 'Lovelace', given: ['Ada'] }], gender: 'female', birthDate: '1815-12-10' },
  { resourceType: 'Patient', id: 'bad-date', meta: meta('1.ws'), birthDate: '10/12/1815' } as Resource,
  { resourceType: 'Observation', id: 'no-status', meta: meta('1.ws'), code: { text: 'Heart rate' } } as Resource,
  {
    resourceType: 'Observation',
    id: 'ok-obs',
    meta: meta('2.ws'),
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: 'Patient/ok' },
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  },
  { resourceType: 'Patient', id: 'unknown-prop', meta: meta('1.ws'), nickname: 'Ada' } as unknown as Resource,
];

describe('the receive pool', () => {
  let pool: ReceivePool;
  let expected: string[][];
  beforeAll(async () => {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`node scripts/build.mjs\` (npm test does) before this test`);
    pool = createReceivePool(here, { workerFile: WORKER });
    expected = resources().map(here);
    // Small batches alone never start the worker: no rows come back.
    pool.precheck(resources());
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.takeRows('Patient', 'ok', '1.ws')).toBeUndefined();
    // A large one starts it; it is ready once a precheck's rows come back (the calling thread extracts none).
    const many = () => Array.from({ length: WORKER_MIN }, () => resources()[0]!);
    pool.precheck(many());
    await until('the worker to answer a precheck', () => {
      pool.precheck([resources()[0]!]);
      return pool.takeRows('Patient', 'ok', '1.ws') !== undefined;
    });
  });
  afterAll(() => pool.close());

  it('validates on its worker exactly as the validator does on this thread', async () => {
    expect(expected.filter((r) => r.length > 0)).toHaveLength(3); // the fixtures do hold errors
    expect(await pool.check(resources())).toEqual(expected);
  });

  it('answers prechecked resources from the early run, the rest fresh, in order; and extracts the rows of the valid ones', async () => {
    const batch = resources();
    pool.precheck([batch[1]!, batch[3]!, batch[0]!]);
    expect(await pool.check(batch)).toEqual(expected);
    await until('the prechecked rows', () => pool.takeRows('Observation', 'ok-obs', '2.ws') !== undefined);
    // Taken once: the second take finds nothing; invalid resources get no rows.
    pool.precheck([resources()[3]!]);
    await until('the rows of the second precheck', () => {
      const rows = pool.takeRows('Observation', 'ok-obs', '2.ws');
      if (!rows) return false;
      expect(rows).toEqual(extractor.extract(resources()[3]!));
      expect(rows.quantities.length).toBeGreaterThan(0);
      return true;
    });
    expect(pool.takeRows('Observation', 'ok-obs', '2.ws')).toBeUndefined();
    expect(pool.takeRows('Patient', 'bad-date', '1.ws')).toBeUndefined();
  });

  it('extracts ahead the rows of versions about to be committed: takeable once settled, with their exact decimals, equal to this thread\'s', async () => {
    // 5.40 and 5.4 are the same double; only the kept text tells their search precision apart.
    const weights = Array.from({ length: 20 }, (_, i) =>
      parseJson(
        `{"resourceType":"Observation","id":"w${i}","meta":{"versionId":"1.ws","lastUpdated":"2026-01-01T00:00:00.000Z"},"status":"final",` +
          `"code":{"text":"weight"},"valueQuantity":{"value":${i % 2 ? '5.40' : '5.4'},"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`,
      ) as Resource,
    );
    pool.extractAhead(weights); // the worker is up (beforeAll): any size goes to it
    await pool.settled();
    for (const [i, w] of weights.entries()) {
      const rows = pool.takeRows('Observation', `w${i}`, '1.ws');
      expect(rows).toEqual(extractor.extract(w));
    }
    const [even, odd] = [extractor.extract(weights[0]!), extractor.extract(weights[1]!)];
    expect(even.quantities).not.toEqual(odd.quantities); // the texts did reach the worker
    expect(pool.takeRows('Observation', 'w0', '1.ws')).toBeUndefined(); // once
  });

  it('extracts nothing ahead without a running worker: small batches and a missing worker leave the rows to the indexer', async () => {
    const local = createReceivePool(here, { workerFile: null });
    const idle = createReceivePool(here, { workerFile: WORKER });
    try {
      local.extractAhead(Array.from({ length: WORKER_MIN }, () => resources()[0]!));
      idle.extractAhead(resources()); // fewer than WORKER_MIN: the worker is not started for them
      await Promise.all([local.settled(), idle.settled()]);
      expect(local.takeRows('Patient', 'ok', '1.ws')).toBeUndefined();
      expect(idle.takeRows('Patient', 'ok', '1.ws')).toBeUndefined();
    } finally {
      await Promise.all([local.close(), idle.close()]);
    }
  });

  it('falls back to this thread when the worker cannot start, with the same answers', async () => {
    const lines: string[] = [];
    const broken = createReceivePool(here, { workerFile: join(REPO, 'dist', 'no-such-worker.js'), log: (l: string) => lines.push(l) });
    try {
      broken.precheck(Array.from({ length: WORKER_MIN }, () => resources()[0]!));
      await until('the worker failure to be logged', () => lines.length > 0);
      expect(lines.join('\n')).toMatch(/receive worker failed/);
      expect(await broken.check(resources())).toEqual(expected);
      broken.precheck(resources());
      expect(await broken.check(resources())).toEqual(expected);
      expect(broken.takeRows('Patient', 'ok', '1.ws')).toBeUndefined(); // rows are left to the indexer
    } finally {
      await broken.close();
    }
  });

  it('works on this thread where there is no worker script (the core run from sources)', async () => {
    const local = createReceivePool(here, { workerFile: null });
    try {
      local.precheck(Array.from({ length: WORKER_MIN }, () => resources()[0]!));
      expect(await local.check(resources())).toEqual(expected);
    } finally {
      await local.close();
    }
  });

  it('counts a resource the validator throws on as invalid, never as valid', async () => {
    const throwing = createReceivePool(
      (r) => {
        if (r.id === 'bad-date') throw new Error('boom');
        return here(r);
      },
      { workerFile: null },
    );
    try {
      const got = await throwing.check(resources());
      expect(got[1]).toEqual([VALIDATOR_FAILED]);
      expect(got[0]).toEqual([]);
    } finally {
      await throwing.close();
    }
  });
});
