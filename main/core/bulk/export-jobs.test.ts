/**
 * Export jobs (export-jobs.ts) on a real disk: a job's files and manifest, one file per
 * MAX_PER_FILE resources, its owner alone, cancellation mid-run, failure, the limit on
 * running jobs, retention, and the clean-up of what an earlier run left.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until';
import { ExportJobs, MAX_PER_FILE, MAX_RUNNING, type ExportSource } from './export-jobs';
import { JobError } from './job-registry';

const root = mkdtempSync(join(tmpdir(), 'flint-export-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const key = randomBytes(32);
let n = 0;
const jobsAt = (retentionMs?: number) => new ExportJobs({ dir: join(root, `exports-${n++}`), key, ...(retentionMs ? { retentionMs } : {}) });

const patients = (count: number, from = 0): Resource[] => Array.from({ length: count }, (_, i) => ({ resourceType: 'Patient', id: `p${from + i}` }));

function sourceOf(batches: Array<{ type: string; resources: Resource[] }>): ExportSource {
  return async function* (_signal, progress) {
    progress({ done: 0, total: batches.reduce((k, b) => k + b.resources.length, 0) });
    for (const b of batches) yield b;
  };
}

/** A source that yields a batch, then waits until aborted (a long export). */
const endless: ExportSource = async function* (signal) {
  yield { type: 'Patient', resources: patients(3) };
  while (!signal.aborted) await new Promise((r) => setTimeout(r, 5));
};

describe('export jobs', () => {
  it('writes files and a manifest, splitting a type every MAX_PER_FILE resources; the owner alone reads them', async () => {
    const jobs = jobsAt();
    try {
      const id = jobs.start('u1', 'http://x/fhir/$export', 'http://x/fhir', sourceOf([
        { type: 'Patient', resources: patients(MAX_PER_FILE) },
        { type: 'Observation', resources: [{ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } } as Resource] },
        { type: 'Patient', resources: patients(2, MAX_PER_FILE) },
      ]));
      await until('the job to end', () => jobs.status(id, 'u1').state !== 'running');
      const s = jobs.status(id, 'u1');
      if (s.state !== 'done') throw new Error(`job ${s.state}`);
      expect(s.manifest.output.map((o) => [o.type, o.count])).toEqual([
        ['Patient', MAX_PER_FILE],
        ['Observation', 1],
        ['Patient', 2],
      ]);
      expect(s.manifest.output[2]!.url).toBe(`http://x/fhir/_export/${id}/Patient-2.ndjson`);
      const second = (await jobs.file(id, 'Patient-2.ndjson', 'u1')).toString('utf8');
      expect(second).toBe(`{"resourceType":"Patient","id":"p${MAX_PER_FILE}"}\n{"resourceType":"Patient","id":"p${MAX_PER_FILE + 1}"}\n`);
      expect(() => jobs.status(id, 'u2')).toThrow(JobError);
      await expect(jobs.file(id, 'Patient-2.ndjson', 'u2')).rejects.toBeInstanceOf(JobError);
      await expect(jobs.file(id, '../../etc/passwd', 'u1')).rejects.toBeInstanceOf(JobError);
    } finally {
      await jobs.close();
    }
  });

  it('cancels a running job (its files go), and limits how many run at once', async () => {
    const jobs = jobsAt();
    try {
      const running = Array.from({ length: MAX_RUNNING }, () => jobs.start('u1', 'r', 'b', endless));
      expect(() => jobs.start('u1', 'r', 'b', endless)).toThrow(JobError);
      const dir = (id: string) => join(jobs['opts'].dir, id);
      await until('the running job to write its folder', () => existsSync(dir(running[0]!)));
      await jobs.cancel(running[0]!, 'u1');
      expect(existsSync(dir(running[0]!))).toBe(false);
      expect(() => jobs.status(running[0]!, 'u1')).toThrow(JobError);
      jobs.start('u1', 'r', 'b', endless); // a slot is free again
    } finally {
      await jobs.close();
    }
  });

  it('reports a failed job without its files, and removes a finished job after the retention period', async () => {
    const jobs = jobsAt(300);
    try {
      const failing: ExportSource = async function* () {
        yield { type: 'Patient', resources: patients(2) };
        throw new Error('disk on fire (a message that must not reach a client)');
      };
      const bad = jobs.start('u1', 'r', 'b', failing);
      await until('the failing job to end', () => jobs.status(bad, 'u1').state !== 'running');
      const s = jobs.status(bad, 'u1');
      expect(s.state).toBe('failed');
      expect(JSON.stringify(s)).not.toContain('fire');
      expect(existsSync(join(jobs['opts'].dir, bad))).toBe(false);

      const good = jobs.start('u1', 'r', 'b', sourceOf([{ type: 'Patient', resources: patients(1) }]));
      await until('the good job to be done', () => jobs.status(good, 'u1').state === 'done');
      expect(readdirSync(join(jobs['opts'].dir, good))).toEqual(['Patient-1.ndjson']);
      await until('the expired job\'s files to be removed', () => !existsSync(join(jobs['opts'].dir, good)));
      expect(() => jobs.status(good, 'u1')).toThrow(JobError);
    } finally {
      await jobs.close();
    }
  });

  it('removes what an earlier run left (jobs live in memory)', async () => {
    const dir = join(root, 'leftovers');
    mkdirSync(join(dir, 'old-job'), { recursive: true });
    writeFileSync(join(dir, 'old-job', 'Patient-1.ndjson'), 'sealed bytes');
    const jobs = new ExportJobs({ dir, key });
    expect(readdirSync(dir)).toEqual([]);
    await jobs.close();
  });
});
