import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createSingleWindow, type RevealableWindow } from './single-instance';

/** A window as the slot sees one; records what it was asked to do. */
class FakeWindow extends EventEmitter implements RevealableWindow {
  static made = 0;
  readonly n = ++FakeWindow.made;
  readonly calls: string[] = [];
  minimized = false;
  destroyed = false;
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return this.minimized;
  }
  restore() {
    this.minimized = false;
    this.calls.push('restore');
  }
  show() {
    this.calls.push('show');
  }
  focus() {
    this.calls.push('focus');
  }
  close() {
    this.destroyed = true;
    this.emit('closed');
  }
}

describe('createSingleWindow', () => {
  it('creates the window on the first reveal, and only then', () => {
    const created: FakeWindow[] = [];
    const slot = createSingleWindow(() => {
      const w = new FakeWindow();
      created.push(w);
      return w;
    });
    expect(slot.current()).toBeUndefined();
    const first = slot.reveal();
    expect(created).toEqual([first]);
    expect(first.calls).toEqual([]); // a new window shows itself when its page is ready
    expect(slot.current()).toBe(first);
  });

  it('a second launch brings the open window forward: restored when minimized, shown, focused', () => {
    const slot = createSingleWindow(() => new FakeWindow());
    const window = slot.reveal();
    expect(slot.reveal()).toBe(window);
    expect(window.calls).toEqual(['show', 'focus']);
    window.minimized = true;
    slot.reveal();
    expect(window.calls).toEqual(['show', 'focus', 'restore', 'show', 'focus']);
  });

  it('after the window was closed (the app lives on in the tray), Open Flint creates a new one', () => {
    const slot = createSingleWindow(() => new FakeWindow());
    const first = slot.reveal();
    first.close();
    expect(slot.current()).toBeUndefined();
    const second = slot.reveal();
    expect(second).not.toBe(first);
    expect(slot.current()).toBe(second);
    // A late 'closed' of the old window does not forget the new one.
    first.emit('closed');
    expect(slot.current()).toBe(second);
  });

  it('a destroyed window that never said closed is not revealed (Electron throws on it)', () => {
    const slot = createSingleWindow(() => new FakeWindow());
    const first = slot.reveal();
    first.destroyed = true;
    const second = slot.reveal();
    expect(second).not.toBe(first);
    expect(first.calls).toEqual([]);
  });
});
