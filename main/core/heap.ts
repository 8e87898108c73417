/**
 * How far V8 lets the heap grow between full collections, for a long-running workstation.
 *
 * By default V8 lets the old generation reach several times the live data before a full
 * GC (up to 4x when allocation is fast). A serving workstation allocates fast and keeps
 * little: under 850 requests/s the live heap is about 60 MB, but the heap reached 155-205
 * MB of mostly garbage, and RSS after the cold-start benchmark's read load was 311-366 MB
 * against issue 13's 300. With growth capped at 1.5x the live data, RSS after the same load
 * was 247-252 MB and its peak 254-277 MB, at the same request rate (docs/benchmarks.md,
 * section 11). The flag is process-wide (worker threads included) and takes effect from the
 * next collection, so setting it when a workstation starts is enough.
 */
import { setFlagsFromString } from 'node:v8';

/** The heap may grow to (1 + this/100) times the live data before the next full GC. */
export const HEAP_GROWING_PERCENT = 50;

let tuned = false;

export function tuneHeapForServing(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
