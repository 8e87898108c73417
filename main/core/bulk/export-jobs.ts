/**
 * Bulk export jobs (FHIR Bulk Data Access 2.0, the asynchronous request pattern): a
 * kick-off starts a job that writes NDJSON files, one or more per resource type, sealed
 * on disk (sealed-file.ts) under <dataDir>/exports/<job>/; the status request reports
 * progress, then the manifest; files are served only to the principal that started the
 * job, decrypted as they are read. A job's files are removed when it is cancelled (DELETE),
 * when it fails, `retentionMs` after it completes, and at start-up (jobs live in memory:
 * a restart ends them, and the client starts again).
 *
 * What is exported is the caller's business: `start` takes a source of resources (the
 * FHIR operation, fhir/operations/export.ts, enumerates them with access control applied).
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyJson } from '../../../shared/fhir/exact-json';
import { JobError, JobRegistry, type Job as RegistryJob } from './job-registry';
import { readSealed, SealedWriter } from './sealed-file';


/** Resources per file: files stay a size a client can fetch and a server can decrypt in one piece. */
export const MAX_PER_FILE = 50_000;
/** Jobs running at once; a kick-off beyond it is told to come back (429). */
export const MAX_RUNNING = 2;

export interface ExportProgress {
  /** Resources written so far. */
  done: number;
  /** Resources the job expects to write, once known. */
  total?: number;
}

/** What a job exports: batches of resources, each batch of one type, in any order. */
export type ExportSource = (signal: AbortSignal, progress: (p: ExportProgress) => void) => AsyncIterable<{ type: string; resources: Resource[] }>;

export interface ManifestOutput {
  type: string;
  url: string;
  count: number;
}

export interface ExportManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: ManifestOutput[];
  error: ManifestOutput[];
}

export type ExportStatus =
  | { state: 'running'; progress: ExportProgress }
  | { state: 'done'; manifest: ExportManifest; expires: number }
  | { state: 'failed'; message: string };

interface FileEntry {
  type: string;
  name: string;
  count: number;
}

interface Job extends RegistryJob {
  request: string;
  baseUrl: string;
  transactionTime: string;
  progress: ExportProgress;
  files: FileEntry[];
  /** OperationOutcome files: what a lenient request had ignored. */
  errorFiles: FileEntry[];
  message?: string;
  expires?: number;
}

export interface ExportJobsOptions {
  /** <dataDir>/exports */
  dir: string;
  /** The data dir's purpose key for exports. */
  key: Buffer;
  /** How long a completed job's files are kept (default: one hour). */
  retentionMs?: number;
  now?: () => number;
  /** Faults, without PHI. */
  log?: (line: string) => void;
}

export class ExportJobs {
  private readonly jobs: JobRegistry<Job>;
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ExportJobsOptions) {
    this.retentionMs = opts.retentionMs ?? 60 * 60 * 1000;
    this.now = opts.now ?? Date.now;
    // Jobs live in memory: whatever an earlier run left is no one's any more.
    this.jobs = new JobRegistry(opts.dir, MAX_RUNNING, 'export');
  }

  /**
   * Starts a job for `owner` (a principal's subject) and returns its id at once; the
   * export runs in the background. `request` is the kick-off URL, for the manifest.
   */
  start(owner: string, request: string, baseUrl: string, source: ExportSource, ignored: readonly string[] = []): string {
    this.jobs.admit();
    const id = randomUUID();
    const job: Job = {
      id,
      owner,
      request,
      baseUrl,
      transactionTime: new Date(this.now()).toISOString(),
      state: 'running',
      progress: { done: 0 },
      files: [],
      errorFiles: [],
      abort: new AbortController(),
      ended: Promise.resolve(),
    };
    this.jobs.add(job);
    job.ended = this.run(job, source, ignored);
    return id;
  }

  /** The job's status, for its owner only (anyone else: not found). */
  status(id: string, owner: string): ExportStatus {
    const job = this.jobs.owned(id, owner);
    if (job.state === 'running') return { state: 'running', progress: { ...job.progress } };
    if (job.state === 'failed') return { state: 'failed', message: job.message ?? 'the export failed' };
    return { state: 'done', manifest: this.manifest(job), expires: job.expires ?? this.now() };
  }

  /** Cancels a running job or deletes a finished one's files (DELETE on the status URL). */
  cancel(id: string, owner: string): Promise<void> {
    return this.jobs.cancel(id, owner);
  }

  /** The decrypted NDJSON of one of a completed job's files, for its owner only. */
  async file(id: string, name: string, owner: string): Promise<Buffer> {
    const job = this.jobs.owned(id, owner);
    const entry = job.state === 'done' ? [...job.files, ...job.errorFiles].find((f) => f.name === name) : undefined;
    if (!entry) throw new JobError('not-found', 'no such file in this export');
    return readSealed(join(this.jobs.folder(job), entry.name), this.opts.key, `${job.id}/${entry.name}`);
  }

  /** Cancels every job and removes every file. */
  close(): Promise<void> {
    return this.jobs.close();
  }

  private manifest(job: Job): ExportManifest {
    const url = (f: FileEntry) => `${job.baseUrl}/_export/${job.id}/${encodeURIComponent(f.name)}`;
    return {
      transactionTime: job.transactionTime,
      request: job.request,
      requiresAccessToken: true,
      output: job.files.map((f) => ({ type: f.type, url: url(f), count: f.count })),
      error: job.errorFiles.map((f) => ({ type: 'OperationOutcome', url: url(f), count: f.count })),
    };
  }

  private async run(job: Job, source: ExportSource, ignored: readonly string[]): Promise<void> {
    const dir = this.jobs.folder(job);
    const writers = new Map<string, { writer: SealedWriter; entry: FileEntry }>();
    const signal = job.abort.signal;
    try {
      mkdirSync(dir, { mode: 0o700 });
      if (ignored.length > 0) {
        const entry: FileEntry = { type: 'OperationOutcome', name: 'OperationOutcome-1.ndjson', count: ignored.length };
        const w = await SealedWriter.create(join(dir, entry.name), this.opts.key, `${job.id}/${entry.name}`);
        for (const text of ignored) {
          await w.write(`${JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'not-supported', diagnostics: text }] })}\n`);
        }
        await w.close();
        job.errorFiles.push(entry);
      }
      for await (const batch of source(signal, (p) => Object.assign(job.progress, p))) {
        if (signal.aborted) break;
        for (const resource of batch.resources) {
          let open = writers.get(batch.type);
          if (open && open.entry.count >= MAX_PER_FILE) {
            await open.writer.close();
            writers.delete(batch.type);
            open = undefined;
          }
          if (!open) {
            const n = job.files.filter((f) => f.type === batch.type).length + 1;
            const entry: FileEntry = { type: batch.type, name: `${batch.type}-${n}.ndjson`, count: 0 };
            open = { writer: await SealedWriter.create(join(dir, entry.name), this.opts.key, `${job.id}/${entry.name}`), entry };
            writers.set(batch.type, open);
            job.files.push(entry);
          }
          await open.writer.write(`${stringifyJson(resource)}\n`);
          open.entry.count++;
          job.progress.done++;
        }
      }
      for (const { writer } of writers.values()) await writer.close();
      writers.clear();
      if (signal.aborted) return;
      job.state = 'done';
      job.expires = this.now() + this.retentionMs;
      this.jobs.expireLater(job, this.retentionMs);
    } catch (e) {
      for (const { writer } of writers.values()) await writer.abort();
      if (signal.aborted) return;
      job.state = 'failed';
      job.message = e instanceof Error && (e as { status?: number }).status ? e.message : 'the export failed; see the server log';
      if (!(e as { status?: number }).status) this.opts.log?.(`[fault] an export failed (${e instanceof Error ? e.name : 'error'})`);
      this.jobs.removeFolder(job);
      this.jobs.expireLater(job, this.retentionMs); // its status stays readable as long as a result would have
    }
  }
}
