/**
 * The live sync status, shared by the header badge and the sync screens through the
 * query cache. The badge (always mounted) runs the stream: `flint.watchSync` (SSE over
 * fetch) writes each status into the cache; when the stream ends or fails it reconnects
 * with an exponential backoff with jitter (1 s doubling to 60 s, reset by the next status
 * received), and until it is back the status is polled every 10 s. Nothing runs while the
 * session is locked (its tokens do not work then).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { SyncStatus } from '../../shared/api/sync';
import { useFlint } from '../app/flint-context';

export const SYNC_STATUS_KEY = ['flint', 'sync', 'status'] as const;
export const CONFLICTS_KEY = ['flint', 'conflicts'] as const;
export const QUARANTINE_KEY = ['flint', 'sync', 'quarantine'] as const;
export const SYNC_SETTINGS_KEY = ['flint', 'sync', 'settings'] as const;

export const POLL_MS = 10_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/** The delay before reconnect attempt `n` (0-based): full jitter over 1 s · 2^n, at most 60 s. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 16));
  return Math.max(250, Math.round(cap * random()));
}

/** Whether the session's tokens work now (not locked, not signed out). */
function useSessionActive(): boolean {
  const { auth } = useFlint();
  const state = useSyncExternalStore(
    (fn) => auth.subscribe(fn),
    () => auth.current,
  );
  return state === 'signed-in';
}

/** The status as the cache holds it (fetched once if nobody streams it). For every screen. */
export function useSyncStatus() {
  const { flint } = useFlint();
  const active = useSessionActive();
  return useQuery<SyncStatus>({ queryKey: SYNC_STATUS_KEY, queryFn: flint.syncStatus, enabled: active, staleTime: 5_000 });
}

/** Runs the stream and the polling fallback; for the one component that is always mounted (the badge). */
export function useSyncStatusFeed() {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const active = useSessionActive();
  const [live, setLive] = useState(false);

  useEffect(() => {
    if (!active) return;
    const stop = new AbortController();
    let attempt = 0;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = window.setTimeout(resolve, ms);
        const cancel = () => {
          window.clearTimeout(t);
          resolve();
        };
        stop.signal.addEventListener('abort', cancel, { once: true });
      });
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          await flint.watchSync((s) => {
            attempt = 0;
            setLive(true);
            queries.setQueryData(SYNC_STATUS_KEY, s);
          }, stop.signal);
        } catch {
          // Offline, refused or cut: the polling below covers the gap; try again later.
        }
        setLive(false);
        if (stop.signal.aborted) return;
        await sleep(retryDelay(attempt++));
      }
    })();
    return () => {
      stop.abort();
      setLive(false);
    };
  }, [active, flint, queries]);

  const query = useQuery<SyncStatus>({
    queryKey: SYNC_STATUS_KEY,
    queryFn: flint.syncStatus,
    enabled: active,
    staleTime: live ? Infinity : 5_000,
    refetchInterval: live ? false : POLL_MS,
    refetchIntervalInBackground: true,
  });

  // A change in the number of conflicts (or quarantined arrivals) refreshes their lists.
  const conflicts = query.data?.conflicts;
  const quarantined = query.data?.quarantined;
  const seen = useRef<{ conflicts?: number; quarantined?: number }>({});
  useEffect(() => {
    const before = seen.current;
    if (before.conflicts !== undefined && before.conflicts !== conflicts) void queries.invalidateQueries({ queryKey: CONFLICTS_KEY });
    if (before.quarantined !== undefined && before.quarantined !== quarantined) void queries.invalidateQueries({ queryKey: QUARANTINE_KEY });
    seen.current = { conflicts, quarantined };
  }, [conflicts, quarantined, queries]);

  return { ...query, live };
}

/** Re-renders every `ms` so that "2 min ago" stays true. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}
