import { describe, expect, it } from 'vitest';
import type { HeadDoc } from './documents';
import { HeadCache } from './head-cache';

const head = (vid: string) => ({ _id: 'r:Patient/1', kind: 'head', type: 'Patient', id: '1', vid, n: 1, ts: '', method: 'PUT', deleted: false }) as HeadDoc;

describe('HeadCache', () => {
  it('caches reads and evicts the least recently used beyond its size', () => {
    const c = new HeadCache(2);
    c.offer('a', head('1'), c.begin());
    c.offer('b', head('1'), c.begin());
    expect(c.get('a')?.vid).toBe('1'); // a is now the most recent
    c.offer('c', head('1'), c.begin());
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
  });

  it('never caches a read that began before an invalidation of its key', () => {
    const c = new HeadCache();
    const began = c.begin();
    c.invalidate('a'); // a write committed while the read was in flight
    c.offer('a', head('old'), began);
    expect(c.get('a')).toBeUndefined();
    c.offer('b', head('1'), began); // other keys are unaffected
    expect(c.get('b')).toBeDefined();
    const after = c.begin();
    c.offer('a', head('new'), after);
    expect(c.get('a')?.vid).toBe('new');
  });

  it('refuses every older read once it forgets which keys it invalidated', () => {
    const c = new HeadCache(2);
    const began = c.begin();
    for (const k of ['x', 'y', 'z']) c.invalidate(k);
    c.offer('a', head('1'), began);
    expect(c.get('a')).toBeUndefined();
  });
});
