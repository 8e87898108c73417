/**
 * How the shell runs the workstation core (the same core `flint serve` runs). The shell codes
 * against CoreHost only; where the core runs (in the main process, or in a utility process)
 * is decided in docs/decisions.md with a measurement. IMPLEMENTATION PENDING (issue 14).
 */
import type { Observable } from 'rxjs';
import type { SyncStatus } from '../../shared/api/sync';

export interface CoreHost {
  /** http://127.0.0.1:<port>: the UI at /, FHIR at /fhir. */
  readonly baseUrl: string;
  /** First run only: `<origin>/setup#token=...`, opened directly by the shell. */
  readonly setupUrl?: string;
  readonly workstationId: string;
  /** Every distinct sync status, starting with the current one; completes when the core stops. */
  readonly syncStatus$: Observable<SyncStatus>;
  /** Pauses or resumes sync (the same setting as `flint sync pause|resume`). */
  setSyncPaused(paused: boolean): Promise<void>;
  /** Stops sync cleanly and closes the stores; resolves when the core has stopped. */
  close(): Promise<void>;
  /** Settles if the core stops without close() (a crash): the shell reports it and quits. */
  readonly unexpectedExit: Promise<{ code: number | null; message: string }>;
}
