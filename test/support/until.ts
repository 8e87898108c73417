/**
 * Waiting in tests for something another thread or process does. The deadline bounds a
 * failure only, never a speed: it is long, because a CI machine running both test
 * workers beside browsers and servers can be many times slower than a quiet one
 * (speed is measured in bench/, not here).
 */

/** How long `until` waits by default: a minute. */
export const UNTIL_DEFAULT_MS = 60_000;

/**
 * Polls `get` (or awaits it) every `everyMs` until it gives something other than undefined
 * or false, and returns that; throws "timed out waiting for <what>" after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  get: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = UNTIL_DEFAULT_MS, everyMs = 25 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
