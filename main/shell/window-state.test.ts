import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_WINDOW_STATE,
  fitWindowState,
  keepWindowState,
  parseWindowState,
  readWindowState,
  type Rect,
  type TrackedWindow,
  type WindowState,
  writeWindowState,
} from './window-state';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-window-state-'));
  file = join(dir, 'window-state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('parseWindowState', () => {
  it('takes a good state and drops unknown fields', () => {
    expect(parseWindowState({ width: 1000, height: 700, x: -1200, y: 40, maximized: true, patient: 'x' })).toEqual({
      width: 1000,
      height: 700,
      x: -1200,
      y: 40,
      maximized: true,
    });
  });

  it('a position needs both coordinates; maximized is true only when it says true', () => {
    expect(parseWindowState({ width: 1000, height: 700, x: 5, maximized: 'yes' })).toEqual({
      width: 1000,
      height: 700,
      maximized: false,
    });
  });

  it('refuses what is not a state', () => {
    for (const bad of [null, 3, 'x', [], {}, { width: 0, height: 700 }, { width: 1000 }, { width: 1000.5, height: 700 },
      { width: -5, height: 700 }, { width: 1e9, height: 700 }, { width: '1000', height: 700 }, { width: NaN, height: 1 }]) {
      expect(parseWindowState(bad)).toBeUndefined();
    }
  });
});

describe('readWindowState and writeWindowState (real files)', () => {
  it('no file: the defaults', () => {
    expect(readWindowState(file)).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('a damaged or odd file: the defaults, never a throw', () => {
    for (const text of ['', '{"width": 1000, "hei', 'null', '[1,2]', '{"width": "wide", "height": 700}', '\u0000\u0001']) {
      writeFileSync(file, text);
      expect(readWindowState(file)).toEqual(DEFAULT_WINDOW_STATE);
    }
    // A folder where the file should be.
    rmSync(file);
    writeWindowState(join(file, 'inner.json'), DEFAULT_WINDOW_STATE);
    expect(readWindowState(file)).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('the defaults it returns are a copy: changing one does not change the next', () => {
    const first = readWindowState(file);
    first.width = 1;
    expect(readWindowState(file).width).toBe(DEFAULT_WINDOW_STATE.width);
  });

  it('writes atomically into a folder it creates, and reads back what it wrote', () => {
    const nested = join(dir, 'a', 'b', 'window-state.json');
    const state: WindowState = { width: 1400, height: 900, x: 100, y: 50, maximized: true };
    writeWindowState(nested, state);
    expect(readWindowState(nested)).toEqual(state);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['window-state.json']); // no scratch file left
    expect(JSON.parse(readFileSync(nested, 'utf8'))).toEqual(state);
  });
});

describe('fitWindowState', () => {
  const laptop: Rect = { x: 0, y: 0, width: 1440, height: 875 }; // primary, menu bar excluded
  const left: Rect = { x: -1920, y: 0, width: 1920, height: 1040 };

  it('a window inside a display stays as it is', () => {
    const state = { width: 1000, height: 700, x: 100, y: 60, maximized: false };
    expect(fitWindowState(state, [laptop, left])).toEqual(state);
    const onLeft = { width: 1200, height: 800, x: -1800, y: 100, maximized: true };
    expect(fitWindowState(onLeft, [laptop, left])).toEqual(onLeft);
  });

  it('a window partly off its display is moved wholly inside the one it overlaps most', () => {
    expect(fitWindowState({ width: 1000, height: 700, x: 900, y: 500, maximized: false }, [laptop, left])).toEqual({
      width: 1000,
      height: 700,
      x: 440,
      y: 175,
      maximized: false,
    });
    // Mostly on the left monitor: it goes there, not to the primary.
    expect(fitWindowState({ width: 1000, height: 700, x: -900, y: -100, maximized: false }, [laptop, left])).toEqual({
      width: 1000,
      height: 700,
      x: -1000,
      y: 0,
      maximized: false,
    });
  });

  it('a window on a monitor that is gone is centred on the primary display', () => {
    expect(fitWindowState({ width: 1000, height: 700, x: -1800, y: 100, maximized: true }, [laptop])).toEqual({
      width: 1000,
      height: 700,
      x: 220,
      y: 87,
      maximized: true,
    });
  });

  it('too big for the display: shrunk to its work area', () => {
    expect(fitWindowState({ width: 2560, height: 1400, x: 0, y: 0, maximized: false }, [laptop])).toEqual({
      ...laptop,
      maximized: false,
    });
  });

  it('never smaller than the minimum size, unless the display itself is smaller', () => {
    expect(fitWindowState({ width: 200, height: 100, maximized: false }, [laptop])).toEqual({ width: 800, height: 600, maximized: false });
    const tiny: Rect = { x: 0, y: 0, width: 700, height: 500 };
    expect(fitWindowState({ width: 200, height: 100, x: 0, y: 0, maximized: false }, [tiny])).toEqual({ ...tiny, maximized: false });
  });

  it('no position: no position (Electron centres it), the size fitted to the primary display', () => {
    expect(fitWindowState({ width: 3000, height: 700, maximized: false }, [laptop, left])).toEqual({ width: 1440, height: 700, maximized: false });
  });

  it('no display known: the state, sized at least to the minimum', () => {
    expect(fitWindowState({ width: 100, height: 700, x: 5, y: 6, maximized: false }, [])).toEqual({ width: 800, height: 700, x: 5, y: 6, maximized: false });
  });
});

/** A window as keepWindowState sees one: its events and bounds, driven by the test. */
class FakeWindow extends EventEmitter implements TrackedWindow {
  bounds: Rect = { x: 10, y: 20, width: 1000, height: 700 };
  maximized = false;
  minimized = false;
  fullScreen = false;
  destroyed = false;
  private check(): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
  }
  getNormalBounds(): Rect {
    this.check();
    return { ...this.bounds };
  }
  isMaximized(): boolean {
    this.check();
    return this.maximized;
  }
  isMinimized(): boolean {
    this.check();
    return this.minimized;
  }
  isFullScreen(): boolean {
    this.check();
    return this.fullScreen;
  }
  close(): void {
    this.emit('close');
    this.destroyed = true;
    this.emit('closed');
  }
}

describe('keepWindowState (real files, real timers)', () => {
  it('writes once, debounced, after a burst of moves and resizes', async () => {
    const window = new FakeWindow();
    keepWindowState(window, file, { debounceMs: 40 });
    for (let i = 0; i < 5; i++) {
      window.bounds = { ...window.bounds, x: 10 + i };
      window.emit('move');
      await sleep(5);
    }
    expect(existsSync(file)).toBe(false);
    await sleep(80);
    expect(readWindowState(file)).toEqual({ x: 14, y: 20, width: 1000, height: 700, maximized: false });
  });

  it('writes at once on close, and nothing after the window is gone', async () => {
    const window = new FakeWindow();
    keepWindowState(window, file, { debounceMs: 40 });
    window.bounds = { x: 300, y: 200, width: 1100, height: 750 };
    window.emit('resize');
    window.close();
    expect(readWindowState(file)).toEqual({ x: 300, y: 200, width: 1100, height: 750, maximized: false });
    await sleep(80); // the debounced write was cancelled: it would throw on the destroyed window
    expect(readWindowState(file).width).toBe(1100);
  });

  it('keeps the normal bounds with the maximized flag', async () => {
    const window = new FakeWindow();
    keepWindowState(window, file, { debounceMs: 10 });
    window.maximized = true;
    window.emit('maximize');
    await sleep(40);
    expect(readWindowState(file)).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: true });
  });

  it('takes nothing while minimized or full screen: the last good state is written on close', async () => {
    const window = new FakeWindow();
    keepWindowState(window, file, { debounceMs: 10 });
    window.emit('move');
    await sleep(40);
    window.minimized = true;
    window.bounds = { x: -32000, y: -32000, width: 160, height: 28 }; // what Windows reports
    window.emit('move');
    await sleep(40);
    window.minimized = false;
    window.fullScreen = true;
    window.bounds = { x: 0, y: 0, width: 2560, height: 1440 };
    window.emit('resize');
    window.close();
    expect(readWindowState(file)).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: false });
  });

  it('a failed write is reported, not thrown', () => {
    const window = new FakeWindow();
    const errors: unknown[] = [];
    // A file where its folder should be: fails for root too (ENOTDIR), unlike a read-only folder.
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const keeper = keepWindowState(window, join(dir, 'not-a-folder', 'window-state.json'), { onError: (e) => errors.push(e) });
    expect(() => keeper.flush()).not.toThrow();
    expect(() => window.close()).not.toThrow();
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof Error && /ENOTDIR|EEXIST/.test((e as NodeJS.ErrnoException).code ?? ''))).toBe(true);
  });
});
