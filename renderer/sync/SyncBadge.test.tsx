// @vitest-environment jsdom
/**
 * The header badge against a fake core: it shows what the stream sends, reconnects when
 * the stream ends, polls while the stream is down, and says state changes in a polite
 * live region.
 */
import { renderScreen } from '../app/screen-harness';
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SyncStatus } from '../../shared/api/sync';
import { type FlintContextValue } from '../app/flint-context';
import { SyncBadge } from './SyncBadge';
import { retryDelay } from './use-sync-status';

const status = (over: Partial<SyncStatus>): SyncStatus => ({
  configured: true,
  state: 'idle',
  pending: 0,
  auditPending: 0,
  sent: 0,
  received: 0,
  quarantined: 0,
  conflicts: 0,
  message: 'Up to date with the clinic server.',
  lastSync: new Date(Date.now() - 2 * 60_000).toISOString(),
  ...over,
});

function setup(flint: Partial<FlintContextValue['flint']>) {
  const auth = { current: 'signed-in', subscribe: () => () => undefined } as unknown as FlintContextValue['auth'];
  return renderScreen(<SyncBadge />, { ctx: { auth, flint, fhir: {}, session: {} } });
}

afterEach(cleanup);

describe('SyncBadge', () => {
  it('shows the streamed status, reconnects when the stream ends, and announces changes', async () => {
    const streams: Array<(s: SyncStatus) => void> = [];
    const watchSync = vi.fn(async (onStatus: (s: SyncStatus) => void, signal: AbortSignal) => {
      streams.push(onStatus);
      if (streams.length === 1) {
        onStatus(status({ state: 'idle' }));
        return; // the first stream ends at once
      }
      onStatus(status({ state: 'offline', pending: 3, conflicts: 2 }));
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    });
    const syncStatus = vi.fn(async () => status({ state: 'idle' }));
    setup({ watchSync, syncStatus });

    const link = await screen.findByRole('link');
    expect(link.getAttribute('href')).toBe('/sync');
    await waitFor(() => expect(watchSync).toHaveBeenCalledTimes(2)); // the first retry: within 1 s
    await waitFor(() => expect(link.textContent).toContain('Offline'));
    expect(link.textContent).toContain('3 changes to send');
    expect(link.textContent).toContain('synced 2 min ago');
    expect(link.textContent).toContain('2 conflicts');
    expect(screen.getByRole('status').textContent).toBe('Sync: offline. 2 conflicts to review.');
  });

  it('polls the status while the stream cannot be opened', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const watchSync = vi.fn(async () => {
        throw new Error('offline');
      });
      let n = 0;
      const syncStatus = vi.fn(async () => status({ state: n++ === 0 ? 'error' : 'paused' }));
      setup({ watchSync, syncStatus });
      const link = await screen.findByRole('link');
      await waitFor(() => expect(link.textContent).toContain('Sync problem'));
      await act(async () => {
        await vi.advanceTimersByTimeAsync(10_500);
      });
      await waitFor(() => expect(link.textContent).toContain('Sync paused'));
      expect(syncStatus.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(watchSync.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says when sync is not set up, without figures', async () => {
    setup({ watchSync: vi.fn(async (_: unknown, signal: AbortSignal) => new Promise<void>((r) => signal.addEventListener('abort', () => r()))), syncStatus: vi.fn(async () => status({ configured: false, state: 'offline', pending: 4 })) });
    const link = await screen.findByRole('link');
    await waitFor(() => expect(link.textContent).toBe('Sync not set up'));
  });
});

describe('retryDelay', () => {
  it('doubles from 1 s up to 60 s, with jitter', () => {
    expect(retryDelay(0, () => 1)).toBe(1_000);
    expect(retryDelay(3, () => 1)).toBe(8_000);
    expect(retryDelay(20, () => 1)).toBe(60_000);
    expect(retryDelay(5, () => 0.5)).toBe(16_000);
    expect(retryDelay(0, () => 0)).toBe(250);
  });
});
