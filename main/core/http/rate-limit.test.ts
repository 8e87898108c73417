import { describe, expect, it } from 'vitest';
import { RateLimiter, clientKey } from './rate-limit';

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the seconds to wait, then refills', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ burst: 3, perSecond: 0.5 }, () => clock.now);
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0]);
    expect(limiter.take('k')).toBe(2);
    clock.now += 1_000;
    expect(limiter.take('k')).toBe(1);
    clock.now += 1_000;
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(2);
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 1 }, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
  });

  it('gives a refunded token back, never above the burst', () => {
    const limiter = new RateLimiter({ burst: 2, perSecond: 0.001 }, () => 0);
    expect(limiter.take('k')).toBe(0);
    limiter.refund('k');
    limiter.refund('k');
    expect([limiter.take('k'), limiter.take('k')]).toEqual([0, 0]);
    expect(limiter.take('k')).toBeGreaterThan(0);
  });

  it('stays bounded: idle buckets go first, then the least recently used', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ burst: 1, perSecond: 1 }, () => clock.now, 3);
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    clock.now += 10_000; // a, b and c have refilled: idle
    limiter.take('d');
    expect(limiter.size).toBe(1);
    for (const k of ['e', 'f']) limiter.take(k);
    limiter.take('d'); // d is now the most recently used
    limiter.take('g'); // full of busy buckets: e (least recently used) goes
    expect(limiter.size).toBe(3);
    expect(limiter.take('d')).toBeGreaterThan(0);
    expect(limiter.take('e')).toBe(0);
  });
});

describe('clientKey', () => {
  it('counts all of loopback as one client', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(clientKey(a)).toBe('loopback');
    expect(clientKey('192.168.1.2')).toBe('192.168.1.2');
    expect(clientKey(undefined)).toBe('unknown');
  });
});
