import { describe, expect, it } from 'vitest';
import { WriteLocks } from './write-locks';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('WriteLocks', () => {
  it('serializes writes to one resource and overlaps writes to different ones', async () => {
    const locks = new WriteLocks();
    const log: string[] = [];
    const job = (key: string, name: string) =>
      locks.resources([key], async () => {
        log.push(`${name}+`);
        await tick();
        log.push(`${name}-`);
      });
    await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')]);
    expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });

  it('runs an exclusive section alone, after earlier writers and before later ones', async () => {
    const locks = new WriteLocks();
    let active = 0;
    let maxDuringExclusive = 0;
    const write = (k: string) =>
      locks.resources([k], async () => {
        active++;
        await tick();
        active--;
      });
    const results = [write('x'), write('y')];
    results.push(
      locks.exclusive(async () => {
        maxDuringExclusive = Math.max(maxDuringExclusive, active);
        active++;
        await tick();
        active--;
      }),
    );
    results.push(write('z'));
    await Promise.all(results);
    expect(maxDuringExclusive).toBe(0);
  });

  it('releases locks when the section throws', async () => {
    const locks = new WriteLocks();
    await expect(locks.exclusive(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.resources(['a'], async () => 'ok')).resolves.toBe('ok');
  });

  it('does not deadlock when two sections lock the same keys in opposite order', async () => {
    const locks = new WriteLocks();
    const r = await Promise.all([
      locks.resources(['a', 'b'], async () => (await tick(), 1)),
      locks.resources(['b', 'a'], async () => (await tick(), 2)),
    ]);
    expect(r).toEqual([1, 2]);
  });
});
