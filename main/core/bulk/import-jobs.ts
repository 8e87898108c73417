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
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExportJobError } from './export-jobs';
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

interface Job {
  id: string;
  owner: string;
  request: string;
  baseUrl: string;
  transactionTime: string;
  state: 'running' | 'done' | 'failed';
  progress: ImportProgress;
  message?: string;
  abort: AbortController;
  ended: Promise<void>;
}

export interface ImportJobsOptions {
  /** <dataDir>/imports: where each job's error file is sealed. */
  dir: string;
  key: Buffer;
  retentionMs?: number;
  log?: (line: string) => void;
}

export class ImportJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: ImportJobsOptions) {
    rmSync(opts.dir, { recursive: true, force: true });
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  start(owner: string, request: string, baseUrl: string, run: ImportRun): string {
    if (this.closed) throw new ExportJobError('busy', 'the server is shutting down');
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= MAX_RUNNING_IMPORTS) throw new ExportJobError('busy', 'an import is running; try again when it has finished');
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
    this.jobs.set(id, job);
    job.ended = this.run(job, run);
    return id;
  }

  status(id: string, owner: string): ImportStatus {
    const job = this.owned(id, owner);
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
  async cancel(id: string, owner: string): Promise<void> {
    const job = this.owned(id, owner);
    job.abort.abort();
    this.jobs.delete(id);
    await job.ended.catch(() => undefined);
    rmSync(join(this.opts.dir, job.id), { recursive: true, force: true });
  }

  async errors(id: string, name: string, owner: string): Promise<Buffer> {
    const job = this.owned(id, owner);
    if (job.state === 'running' || name !== ERROR_FILE || job.progress.errors === 0) throw new ExportJobError('not-found', 'no such file');
    return readSealed(join(this.opts.dir, job.id, ERROR_FILE), this.opts.key, `${job.id}/${ERROR_FILE}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const j of jobs) j.abort.abort();
    await Promise.all(jobs.map((j) => j.ended.catch(() => undefined)));
    rmSync(this.opts.dir, { recursive: true, force: true });
  }

  private owned(id: string, owner: string): Job {
    const job = this.jobs.get(id);
    if (!job || job.owner !== owner) throw new ExportJobError('not-found', 'no such import');
    return job;
  }

  private async run(job: Job, run: ImportRun): Promise<void> {
    const dir = join(this.opts.dir, job.id);
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
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
      rmSync(dir, { recursive: true, force: true });
    }, this.opts.retentionMs ?? 60 * 60 * 1000);
    timer.unref();
    this.timers.add(timer);
  }
}
