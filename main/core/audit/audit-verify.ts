/**
 * The check `flint audit verify` and `GET /flint/audit/verify` both run (docs/audit.md,
 * "Verify"): the hash chain against the keychain-held head, then the journal (read, never
 * written). Problems name seqs and ids, never content.
 */
import { AuditChainError, type AuditLog } from './audit-log';

export type AuditVerdict =
  /** `journalPending`: events journaled and not chained yet (a server is running, or will chain them at its next start). */
  | { ok: true; events: number; journalPending: number }
  | { ok: false; where: 'chain'; seq: number; problem: string }
  | { ok: false; where: 'journal'; events: number; problem: string };

/** Throws AuditChainError when the keychain head itself is damaged (not `{seq, hash}`). */
export async function verifyAuditTrail(log: Pick<AuditLog, 'verify' | 'journalBacklog'>): Promise<AuditVerdict> {
  const result = await log.verify();
  if (!result.ok) return { ok: false, where: 'chain', seq: result.seq, problem: result.problem };
  try {
    return { ok: true, events: result.events, journalPending: log.journalBacklog() };
  } catch (e) {
    if (!(e instanceof AuditChainError)) throw e;
    return { ok: false, where: 'journal', events: result.events, problem: e.message };
  }
}
