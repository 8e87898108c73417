/**
 * The window's remembered size, position and maximized flag: a small JSON file in the app's
 * userData folder (`window-state.json`; geometry only, never anything about patients). It is
 * read with validation (a missing, damaged or odd file gives the defaults, never a crash),
 * fitted onto the displays there are now (a monitor may have gone since), and written
 * debounced while the window moves or resizes, and once more when it closes.
 *
 * Writes are synchronous (write a scratch file, rename it into place): the file is about 80
 * bytes, and the write at 'close' must be done before the app may exit.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  width: number;
  height: number;
  /** Both or neither: without a position the window opens centred. */
  x?: number;
  y?: number;
  maximized: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_WINDOW_STATE: Readonly<WindowState> = Object.freeze({ width: 1280, height: 832, maximized: false });
export const MIN_WINDOW_SIZE = Object.freeze({ width: 800, height: 600 });

/** Coordinates beyond this are nonsense on any desktop (and keep the arithmetic exact). */
const LIMIT = 100_000;
const isCoordinate = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= LIMIT;
const isSize = (v: unknown): v is number => isCoordinate(v) && v > 0;

/** The state in a parsed file, or undefined when it is not one. Unknown fields are dropped. */
export function parseWindowState(value: unknown): WindowState | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (!isSize(v.width) || !isSize(v.height)) return undefined;
  const state: WindowState = { width: v.width, height: v.height, maximized: v.maximized === true };
  if (isCoordinate(v.x) && isCoordinate(v.y)) {
    state.x = v.x;
    state.y = v.y;
  }
  return state;
}

/** The remembered state, or the defaults when there is none or it cannot be read. */
export function readWindowState(file: string): WindowState {
  try {
    return parseWindowState(JSON.parse(readFileSync(file, 'utf8'))) ?? { ...DEFAULT_WINDOW_STATE };
  } catch {
    return { ...DEFAULT_WINDOW_STATE };
  }
}

/** Writes the state atomically: a reader sees the old file or the new one, never half of one. */
export function writeWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const scratch = `${file}.${process.pid}.tmp`;
  writeFileSync(scratch, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(scratch, file);
}

const overlap = (a: Rect, b: Rect): number =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

/**
 * The state fitted onto the current displays' work areas (the primary display's first):
 * the window goes wholly inside the work area it overlaps most, shrunk to fit it if need be;
 * a window that overlaps none (its monitor is gone) is centred on the primary display. The
 * size is at least MIN_WINDOW_SIZE unless the work area itself is smaller.
 */
export function fitWindowState(state: WindowState, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0];
  const fitted: WindowState = {
    width: Math.max(state.width, MIN_WINDOW_SIZE.width),
    height: Math.max(state.height, MIN_WINDOW_SIZE.height),
    maximized: state.maximized,
  };
  if (!primary) {
    if (state.x !== undefined && state.y !== undefined) Object.assign(fitted, { x: state.x, y: state.y });
    return fitted;
  }
  let area = primary;
  let placed = false;
  if (state.x !== undefined && state.y !== undefined) {
    const rect = { x: state.x, y: state.y, width: fitted.width, height: fitted.height };
    let best = 0;
    for (const candidate of workAreas) {
      const shared = overlap(rect, candidate);
      if (shared > best) [best, area] = [shared, candidate];
    }
    placed = best > 0;
  }
  fitted.width = Math.min(fitted.width, area.width);
  fitted.height = Math.min(fitted.height, area.height);
  if (placed) {
    fitted.x = clamp(state.x as number, area.x, area.x + area.width - fitted.width);
    fitted.y = clamp(state.y as number, area.y, area.y + area.height - fitted.height);
  } else if (state.x !== undefined) {
    fitted.x = area.x + Math.floor((area.width - fitted.width) / 2);
    fitted.y = area.y + Math.floor((area.height - fitted.height) / 2);
  }
  return fitted;
}

/** What keepWindowState needs of a BrowserWindow (which satisfies it). */
export interface TrackedWindow {
  on(event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'close' | 'closed', listener: () => void): unknown;
  getNormalBounds(): Rect;
  isMaximized(): boolean;
  isMinimized(): boolean;
  isFullScreen(): boolean;
}

export interface WindowStateKeeper {
  /** Writes the window's state now (and cancels a pending write). */
  flush(): void;
}

/**
 * Follows the window: every move, resize, maximize or unmaximize (re)starts a `debounceMs`
 * timer that writes the state; closing the window writes it at once. While minimized or
 * full screen nothing is taken (those bounds are not the ones to reopen with); the
 * normal bounds are kept when maximized, so unmaximizing after a restart restores them.
 * A failed write is reported to onError and otherwise ignored: it must not stop the app.
 */
export function keepWindowState(
  window: TrackedWindow,
  file: string,
  options: { debounceMs?: number; onError?: (err: unknown) => void } = {},
): WindowStateKeeper {
  const debounceMs = options.debounceMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let last: WindowState | undefined;

  const take = (): void => {
    if (window.isMinimized() || window.isFullScreen()) return;
    const { x, y, width, height } = window.getNormalBounds();
    last = { x, y, width, height, maximized: window.isMaximized() };
  };
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!closed) take();
    if (!last) return;
    try {
      writeWindowState(file, last);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const changed = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };

  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) window.on(event, changed);
  // 'close' may yet be cancelled; 'closed' is final (the window is gone: ask it nothing more).
  window.on('close', flush);
  window.on('closed', () => {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  });
  return { flush };
}
