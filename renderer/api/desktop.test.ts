/**
 * window.flint as the UI takes it: absent in a plain browser, and absent too when the
 * preload lacks part of the contract (an older preload exposed `version` alone).
 */
import { describe, expect, it } from 'vitest';
import type { FlintDesktopApi } from '../../shared/desktop-api';
import { desktopApi } from './desktop';

const complete = (): FlintDesktopApi => ({
  version: () => '0.1.0',
  resumeSession: () => Promise.resolve(null),
  keepSession: () => Promise.resolve(),
  endSession: () => Promise.resolve(),
  onLock: () => () => undefined,
  openExternal: () => Promise.resolve(),
});

describe('desktopApi', () => {
  it('is undefined in a plain browser', () => {
    expect(desktopApi({})).toBeUndefined();
    expect(desktopApi({ flint: null })).toBeUndefined();
    expect(desktopApi({ flint: 'flint' })).toBeUndefined();
  });

  it('is window.flint itself when every function of the contract is there', () => {
    const flint = complete();
    expect(desktopApi({ flint })).toBe(flint);
  });

  it('is undefined when a function is missing or is not a function', () => {
    expect(desktopApi({ flint: { version: () => '0.1.0' } })).toBeUndefined();
    for (const name of Object.keys(complete()) as (keyof FlintDesktopApi)[]) {
      const missing: Partial<FlintDesktopApi> = complete();
      delete missing[name];
      expect(desktopApi({ flint: missing }), name).toBeUndefined();
      expect(desktopApi({ flint: { ...complete(), [name]: true } }), name).toBeUndefined();
    }
  });
});
