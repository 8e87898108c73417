/**
 * The shape of /flint/reindex (docs/flint-api.md, "Rebuilding the search index"), shared by
 * the core that runs the job and the UI that shows its progress.
 */

export type ReindexState = 'idle' | 'running' | 'done' | 'failed';

export interface ReindexStatus {
  /** idle: none since the server started; running; done or failed: the last one ended so. */
  state: ReindexState;
  /** Resources in the index so far (current ones: deleted resources are not indexed). */
  processed: number;
  /**
   * Resources expected: those the index held when the job started (never below
   * `processed`). Once done, the number indexed, equal to `processed`.
   */
  total: number;
  /** When the job started and ended (ISO). */
  startedAt?: string;
  finishedAt?: string;
  /** Why it failed, in words (no PHI). */
  error?: string;
}
