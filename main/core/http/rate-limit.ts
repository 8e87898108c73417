/**
 * Token buckets keyed by (what, who), to slow down password and token guessing. Memory
 * stays bounded: a bucket that has refilled is forgotten (it is the same as a new one),
 * and past `maxKeys` the least recently used bucket goes.
 */

export interface BucketConfig {
  /** Requests allowed at once. */
  burst: number;
  /** Refill rate, requests per second. */
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: BucketConfig,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 1_000,
  ) {}

  /** Takes one token: 0 when allowed, else the seconds to wait (for Retry-After). */
  take(key: string): number {
    const bucket = this.current(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.config.perSecond));
  }

  /** Gives back a token taken for an attempt that turned out not to count. */
  refund(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.config.burst, bucket.tokens + 1);
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is then least recently used first
      bucket.tokens = Math.min(this.config.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.config.perSecond);
      bucket.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      bucket = { tokens: this.config.burst, at: now };
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  private evict(now: number): void {
    const { burst, perSecond } = this.config;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * The "client address" of a limit. Every caller is on loopback, and any local program
 * can connect from any of 127.0.0.0/8 (or ::1, or ::ffff:127.x): counting those apart
 * would hand a guesser 16 million fresh buckets. So all of loopback is one client.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const a = address.toLowerCase();
  if (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.')) return 'loopback';
  return a;
}
