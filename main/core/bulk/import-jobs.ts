/**
 * Bulk import jobs ($import, the asynchronous request pattern as for export): a kick-off
 * starts a job that reads its inputs and writes them; the status request reports
 * progress, then a summary (`output`: counts per input; `error`: a link to an NDJSON file of
 * OperationOutcomes, one per refused line, sealed on disk like export files). Only the
 * principal that started a job sees it. Jobs live in memory; a finished job is forgotten
 * `retentionMs` after it ends. What a job writes, and how, is the caller's (the FHIR
 * operation, fhir/operations/import.ts).
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JobError, JobRegistry, type Job as RegistryJob } from './job-registry';
import { readSealed, SealedWriter } from './sealed-file';

export const MAX_RUNNING_IMPORTS = 1;
export const ERROR_FILE = 'errors.ndjson';

export interface ImportProgress {
  /** Lines and Bundles read so far. */
  read: number;
  /** Resources written (created or changed). */
  written: number;
  /** Resources already stored exactly so (an import run again). */
  unchanged: number;
  /** Lines refused. */
  errors: number;
}

/** Called by a running import for each refused line, with its OperationOutcome. */
export type ReportError = (outcome: OperationOutcome) => Promise<void>;

export type ImportRun = (signal: AbortSignal, progress: ImportProgress, report: ReportError) => Promise<void>;

export interface ImportSummary {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: Array<{ type: 'written' | 'unchanged'; count: number }>;
  error: Array<{ type: 'OperationOutcome'; count: number; url: string }>;
}

export type ImportStatus =
  | { state: 'running'; progress: ImportProgress }
  | { state: 'done'; summary: ImportSummary }
  | { state: 'failed'; message: string; progress: ImportProgress };

interface Job extends RegistryJob {
  request: string;
  baseUrl: string;
  transactionTime: string;
  progress: ImportProgress;
  message?: string;
}

export interface ImportJobsOptions {
  /** <dataDir>/imports: where each job's error file is sealed. */
  dir: string;
  key: Buffer;
  retentionMs?: number;
  log?: (line: string) => void;
}

export class ImportJobs {
  private readonly jobs: JobRegistry<Job>;

  constructor(private readonly opts: ImportJobsOptions) {
    this.jobs = new JobRegistry(opts.dir, MAX_RUNNING_IMPORTS, 'import');
  }

  start(owner: string, request: string, baseUrl: string, run: ImportRun): string {
    this.jobs.admit();
    const id = randomUUID();
    const job: Job = {
      id,
      owner,
      request,
      baseUrl,
      transactionTime: new Date().toISOString(),
      state: 'running',
      progress: { read: 0, written: 0, unchanged: 0, errors: 0 },
      abort: new AbortController(),
      ended: Promise.resolve(),
    };
    this.jobs.add(job);
    job.ended = this.run(job, run);
    return id;
  }

  status(id: string, owner: string): ImportStatus {
    const job = this.jobs.owned(id, owner);
    if (job.state === 'running') return { state: 'running', progress: { ...job.progress } };
    if (job.state === 'failed') return { state: 'failed', message: job.message ?? 'the import failed', progress: { ...job.progress } };
    const p = job.progress;
    return {
      state: 'done',
      summary: {
        transactionTime: job.transactionTime,
        request: job.request,
        requiresAccessToken: true,
        output: [
          { type: 'written', count: p.written },
          { type: 'unchanged', count: p.unchanged },
        ],
        error: p.errors > 0 ? [{ type: 'OperationOutcome', count: p.errors, url: `${job.baseUrl}/_import/${job.id}/${ERROR_FILE}` }] : [],
      },
    };
  }

  /** Stops a running import after the batch in flight (what was committed stays), or forgets a finished one. */
  cancel(id: string, owner: string): Promise<void> {
    return this.jobs.cancel(id, owner);
  }

  async errors(id: string, name: string, owner: string): Promise<Buffer> {
    const job = this.jobs.owned(id, owner);
    if (job.state === 'running' || name !== ERROR_FILE || job.progress.errors === 0) throw new JobError('not-found', 'no such file');
    return readSealed(join(this.jobs.folder(job), ERROR_FILE), this.opts.key, `${job.id}/${ERROR_FILE}`);
  }

  close(): Promise<void> {
    return this.jobs.close();
  }

  private async run(job: Job, run: ImportRun): Promise<void> {
    const dir = this.jobs.folder(job);
    mkdirSync(dir, { mode: 0o700 });
    const writer = await SealedWriter.create(join(dir, ERROR_FILE), this.opts.key, `${job.id}/${ERROR_FILE}`);
    const report: ReportError = async (outcome) => {
      job.progress.errors++;
      await writer.write(`${JSON.stringify(outcome)}\n`);
    };
    try {
      await run(job.abort.signal, job.progress, report);
      await writer.close();
      job.state = 'done';
    } catch (e) {
      await writer.close().catch(() => undefined);
      job.state = 'failed';
      const status = (e as { status?: number }).status;
      job.message = e instanceof Error && status ? e.message : 'the import failed; what was committed before stays; see the server log';
      if (!status) this.opts.log?.(`[fault] an import failed (${e instanceof Error ? e.name : 'error'})`);
    }
    this.jobs.expireLater(job, this.opts.retentionMs ?? 60 * 60 * 1000);
  }
}
