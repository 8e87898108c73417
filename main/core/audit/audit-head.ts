/**
 * The audit chain's head {seq, hash} in the OS keychain (docs/audit.md, "The chain head in
 * the keychain"): read and checked when the log opens; saved after commits in the
 * background, only the newest, one keychain call at a time and at most once per
 * HEAD_INTERVAL_MS, never on a request's path; saved a last time on close. It lets verify
 * see that the newest events were removed.
 */
import type { SecretStore } from '../secrets/secret-store';
import { AuditChainError, type ChainHead } from './audit-chain';

/** The keychain head is saved at most this often (and on close). */
export const HEAD_INTERVAL_MS = 1000;

export const auditHeadAccount = (workstationId: string): string => `${workstationId}/audit-head`;

export class ChainHeadKeeper {
  private wanted: ChainHead | undefined;
  private inFlight: Promise<void> | undefined;
  private lastSave = 0;
  private closing = false;

  constructor(
    private readonly secrets: SecretStore,
    readonly account: string,
  ) {}

  /** The stored head, or null when none was saved yet; throws if the entry is not a head. */
  async read(): Promise<ChainHead | null> {
    const value = await this.secrets.get(this.account);
    if (value === null) return null;
    let head: Partial<ChainHead>;
    try {
      head = JSON.parse(value) as Partial<ChainHead>;
    } catch {
      head = {};
    }
    if (!Number.isSafeInteger(head.seq) || (head.seq ?? 0) < 1 || typeof head.hash !== 'string' || !/^[0-9a-f]{64}$/.test(head.hash)) {
      throw new AuditChainError(`the keychain entry "${this.account}" is not an audit chain head`);
    }
    return { seq: head.seq!, hash: head.hash };
  }

  /** The newest committed head: saved in the background. */
  save(head: ChainHead): void {
    this.wanted = head;
    this.inFlight ??= this.pump();
  }

  /** Waits for the save in flight, then saves what is still wanted (a background save had failed). */
  async close(): Promise<void> {
    this.closing = true;
    await this.inFlight;
    if (!this.wanted) return;
    await this.secrets.set(this.account, JSON.stringify(this.wanted));
    this.wanted = undefined;
  }

  /** Saves the newest wanted head until none is left; one call at a time. */
  private async pump(): Promise<void> {
    try {
      while (this.wanted) {
        // At most one keychain write per HEAD_INTERVAL_MS: each is a D-Bus round trip to the
        // Secret Service, which per request would cost more than the request. Events of
        // the last interval are still chained; only their truncation could go unnoticed.
        const wait = this.lastSave + HEAD_INTERVAL_MS - Date.now();
        if (wait > 0 && !this.closing) await new Promise((r) => setTimeout(r, wait).unref());
        const head = this.wanted;
        this.wanted = undefined;
        if (!head) break;
        try {
          await this.secrets.set(this.account, JSON.stringify(head));
          this.lastSave = Date.now();
        } catch {
          // Retried after the next commit and on close(); the events themselves are committed.
          this.wanted ??= head;
          break;
        }
      }
    } finally {
      this.inFlight = undefined;
    }
  }
}
