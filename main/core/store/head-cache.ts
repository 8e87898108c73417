/**
 * A bounded LRU cache of head documents, so that searches and $everything read the
 * resources of a page from memory instead of one SQLCipher lookup each. Heads are shared
 * objects: callers must not mutate them (patches clone first).
 *
 * A read that raced with a write must not put the old head back: every invalidation
 * bumps an epoch, and a read caches its result only if no invalidation of that key (or a
 * forgetting of all keys) happened since the read began.
 */
import type { HeadDoc } from './documents';

export class HeadCache {
  private readonly entries = new Map<string, HeadDoc>();
  private readonly invalidated = new Map<string, number>();
  private epoch = 0;
  /** Reads that began before this epoch are never cached. */
  private floor = 0;

  constructor(private readonly max = 10_000) {}

  get(key: string): HeadDoc | undefined {
    const doc = this.entries.get(key);
    if (doc) {
      this.entries.delete(key);
      this.entries.set(key, doc);
    }
    return doc;
  }

  /** Call before reading from the store; pass the result to `offer`. */
  begin(): number {
    return this.epoch;
  }

  offer(key: string, doc: HeadDoc, began: number): void {
    if (began < this.floor || (this.invalidated.get(key) ?? -1) >= began) return;
    this.entries.set(key, doc);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The store changed this resource (a local commit, or replication later). */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.invalidated.set(key, this.epoch++);
    if (this.invalidated.size > this.max) {
      this.invalidated.clear();
      this.floor = this.epoch;
    }
  }
}
