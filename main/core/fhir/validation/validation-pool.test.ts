/**
 * The validation pool (validation-pool.ts) on a real worker thread: the built worker
 * (dist/validation-worker.js; `npm test` builds before it tests) must give exactly what the
 * validator gives on the calling thread, prevalidated or not, and a worker that dies must
 * cost nothing but speed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../../../test/support/workstation';
import { createValidationPool, type ValidationPool } from './validation-pool';
import { createValidator, errorReasons } from './validator';

const WORKER = join(REPO, 'dist', 'validation-worker.js');
const validator = createValidator();
const inThread = (r: Resource) => errorReasons(validator.validate(r));

const resources = (): Resource[] => [
  { resourceType: 'Patient', id: 'ok', name: [{ family: 'Lovelace', given: ['Ada'] }], gender: 'female', birthDate: '1815-12-10' },
  { resourceType: 'Patient', id: 'bad-date', birthDate: '10/12/1815' } as Resource,
  { resourceType: 'Observation', id: 'no-status', code: { text: 'Heart rate' } } as Resource,
  { resourceType: 'Observation', id: 'ok-obs', status: 'final', code: { text: 'Heart rate' }, valueQuantity: { value: 72, unit: '/min' } },
  { resourceType: 'Patient', id: 'unknown-prop', nickname: 'Ada' } as unknown as Resource,
];

describe('the validation pool', () => {
  let pool: ValidationPool;
  let expected: string[][];
  beforeAll(() => {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`node scripts/build.mjs\` (npm test does) before this test`);
    pool = createValidationPool(inThread, { workerFile: WORKER });
    expected = resources().map(inThread);
  });
  afterAll(() => pool.close());

  it('gives on its worker exactly what the validator gives on this thread', async () => {
    expect(expected.filter((r) => r.length > 0)).toHaveLength(3); // the fixtures do hold errors
    expect(await pool.validateMany(resources())).toEqual(expected);
  });

  it('answers prevalidated resources from the early run, and the rest fresh, in order', async () => {
    const batch = resources();
    pool.prevalidate([batch[1]!, batch[3]!]);
    expect(await pool.validateMany(batch)).toEqual(expected);
    // Asked again, nothing is left over from the early run: validated afresh, same answer.
    expect(await pool.validateMany(batch)).toEqual(expected);
  });

  it('falls back to this thread when the worker cannot start, with the same answers', async () => {
    const lines: string[] = [];
    const broken = createValidationPool(inThread, { workerFile: join(REPO, 'dist', 'no-such-worker.js'), log: (l) => lines.push(l) });
    try {
      expect(await broken.validateMany(resources())).toEqual(expected);
      expect(lines.join('\n')).toMatch(/validation worker failed/);
      expect(await broken.validateMany(resources())).toEqual(expected);
    } finally {
      await broken.close();
    }
  });

  it('validates on this thread where there is no worker script (the core run from sources)', async () => {
    const local = createValidationPool(inThread, { workerFile: null });
    try {
      local.warm();
      expect(await local.validateMany(resources())).toEqual(expected);
    } finally {
      await local.close();
    }
  });
});
