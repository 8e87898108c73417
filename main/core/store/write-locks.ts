/**
 * The write locks of one store. Ordinary writes hold the store lock shared plus an
 * exclusive lock on each resource they write, so writes to different resources run
 * concurrently and writes to one resource are serialized. Writes whose target depends on
 * a search (conditional create/update/patch/delete, and transaction Bundles with a
 * conditional entry, a conditional reference or a GET) hold the store lock exclusively,
 * which makes "search, then write" atomic: 50 identical conditional creates in parallel
 * produce one resource. Other transactions lock like ordinary writes, every resource they
 * name at once (fhir/bundle/transaction.ts, lockFor).
 */
import { KeyedMutex } from './keyed-mutex';

export class WriteLocks {
  private readonly keys = new KeyedMutex();
  private shared = 0;
  private exclusiveHeld = false;
  private readonly waiting: Array<{ exclusive: boolean; wake: () => void }> = [];

  /** Runs fn holding the store lock shared and each of `keys` exclusively. */
  async resources<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await this.keys.runExclusive(keys, fn);
    } finally {
      this.release(false);
    }
  }

  /** Runs fn with no other write in progress. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.release(true);
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    // FIFO: a waiting exclusive request blocks later shared ones, so it cannot starve.
    if (this.waiting.length === 0 && this.canEnter(exclusive)) {
      this.enter(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ exclusive, wake: resolve }));
  }

  private canEnter(exclusive: boolean): boolean {
    return exclusive ? !this.exclusiveHeld && this.shared === 0 : !this.exclusiveHeld;
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true;
    else this.shared++;
  }

  private release(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = false;
    else this.shared--;
    while (this.waiting.length > 0 && this.canEnter(this.waiting[0]!.exclusive)) {
      const next = this.waiting.shift()!;
      this.enter(next.exclusive);
      next.wake();
      if (next.exclusive) break;
    }
  }
}
