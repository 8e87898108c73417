/**
 * One Flint per user (Electron's single-instance lock, main.ts) and one window per Flint:
 * a second launch, the tray's "Open Flint" and a click on the macOS dock all come here and
 * bring the window forward, or create it again when it was closed (the app keeps running
 * in the tray without one).
 */

/** What the slot needs of a BrowserWindow (which has all of it). */
export interface RevealableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  once(event: 'closed', listener: () => void): unknown;
}

export interface SingleWindow<W extends RevealableWindow> {
  /** The window, when there is one. */
  current(): W | undefined;
  /**
   * Brings the window forward (restored if minimized, shown, focused), creating it first
   * when there is none; the new window shows itself when its page is ready.
   */
  reveal(): W;
}

export function createSingleWindow<W extends RevealableWindow>(create: () => W): SingleWindow<W> {
  let window: W | undefined;
  const current = (): W | undefined => (window && !window.isDestroyed() ? window : undefined);
  return {
    current,
    reveal() {
      const open = current();
      if (open) {
        if (open.isMinimized()) open.restore();
        open.show();
        open.focus();
        return open;
      }
      const created = create();
      window = created;
      created.once('closed', () => {
        if (window === created) window = undefined;
      });
      return created;
    },
  };
}
