/** The shapes of /flint/audit (docs/flint-api.md), shared by the core and the UI. */

/** `GET /flint/audit/verify`: what `flint audit verify` checks, as JSON. */
export interface AuditVerification {
  ok: boolean;
  /** Events stored in the chain (audit.db). */
  events: number;
  /** When this check ran (ISO instant). */
  checkedAt: string;
  /** When not ok: what is wrong, naming seqs, never content. */
  problem?: string;
  /** When not ok because of the chain: the first seq with a problem. */
  seq?: number;
  /** When ok: events journaled and not chained yet (chained within milliseconds by the server). */
  journalPending?: number;
}
