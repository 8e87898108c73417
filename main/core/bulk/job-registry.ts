/**
 * The bookkeeping bulk export and import jobs share: jobs in memory by id, each the
 * business of the principal that started it (to anyone else it does not exist), a cap on
 * how many run at once, one folder per job under the registry's folder (cleared at start:
 * jobs do not outlive the process), forgetting a finished job after its retention, and
 * stopping every job at shutdown.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** not-found: no such job for this principal; busy: too many running, or shutting down. */
export class JobError extends Error {
  constructor(
    readonly reason: 'not-found' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

export interface Job {
  id: string;
  owner: string;
  state: 'running' | 'done' | 'failed';
  abort: AbortController;
  /** Settles when the job's run has ended (done, failed or cancelled). */
  ended: Promise<void>;
}

export class JobRegistry<J extends Job> {
  private readonly jobs = new Map<string, J>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly maxRunning: number,
    private readonly what: string,
  ) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Throws `busy` when no new job may start now. */
  admit(): void {
    if (this.closed) throw new JobError('busy', 'the server is shutting down');
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= this.maxRunning) throw new JobError('busy', `${running} ${this.what}${running === 1 ? ' is' : 's are'} running; try again when one has finished`);
  }

  add(job: J): void {
    this.jobs.set(job.id, job);
  }

  /** The job, for its owner only. */
  owned(id: string, owner: string): J {
    const job = this.jobs.get(id);
    // Another principal's job is indistinguishable from none (its existence is not theirs to learn).
    if (!job || job.owner !== owner) throw new JobError('not-found', `no such ${this.what}`);
    return job;
  }

  folder(job: J): string {
    return join(this.dir, job.id);
  }

  /** Stops the job, waits for its run to end, and removes it and its folder. */
  async cancel(id: string, owner: string): Promise<void> {
    const job = this.owned(id, owner);
    job.abort.abort();
    this.jobs.delete(id);
    await job.ended.catch(() => undefined);
    this.removeFolder(job);
  }

  /** Forgets a finished job, and removes its folder, after `ms`. */
  expireLater(job: J, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
      this.removeFolder(job);
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  removeFolder(job: J): void {
    rmSync(this.folder(job), { recursive: true, force: true });
  }

  /** Stops every job and removes every folder. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) job.abort.abort();
    await Promise.all(jobs.map((j) => j.ended.catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
