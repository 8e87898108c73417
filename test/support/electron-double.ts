/**
 * Stand-ins for the few Electron objects the shell's logic talks to, since no Electron
 * binary can run here: ipcMain and ipcRenderer (with invoke events that carry a
 * `senderFrame`), a web contents' navigation events and window-open handler, a session's
 * security hooks, powerMonitor, shell.openExternal, and the tray with its menu and images.
 * They do what Electron documents and nothing more; everything else in the tests is real.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';

/** A frame as an IPC handler sees it (Electron's WebFrameMain: url, parent). */
export interface FrameDouble {
  url: string;
  parent: FrameDouble | null;
}

export const mainFrameAt = (url: string): FrameDouble => ({ url, parent: null });
export const subFrameAt = (url: string, parentUrl: string): FrameDouble => ({ url, parent: mainFrameAt(parentUrl) });

/** A navigation event as Electron passes it to 'will-frame-navigate' and friends. */
export interface NavigationEventDouble {
  url: string;
  isMainFrame: boolean;
  defaultPrevented: boolean;
  preventDefault(): void;
}

type WindowOpenHandler = (details: { url: string }) => { action: 'deny' | 'allow' };

/** A web contents: what it was sent, its navigation events, its window-open handler. */
export class WebContentsDouble extends EventEmitter {
  destroyed = false;
  readonly sent: unknown[][] = [];
  private windowOpenHandler: WindowOpenHandler | undefined;

  constructor(public url: string) {
    super();
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  getURL(): string {
    return this.url;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed'); // as Electron does
    this.sent.push([channel, ...args]);
  }

  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler;
  }

  /** window.open(url) or a target=_blank link: Electron's default without a handler is 'allow'. */
  openWindow(url: string): 'deny' | 'allow' {
    return this.windowOpenHandler ? this.windowOpenHandler({ url }).action : 'allow';
  }

  /** Emits `name` ('will-frame-navigate', 'will-redirect', 'will-attach-webview'); true when a listener prevented it. */
  navigate(name: string, url: string, isMainFrame = true): boolean {
    const event: NavigationEventDouble = {
      url,
      isMainFrame,
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit(name, event);
    return event.defaultPrevented;
  }
}

export interface InvokeEventDouble {
  sender: WebContentsDouble;
  senderFrame: FrameDouble | null;
}

type InvokeListener = (event: InvokeEventDouble, ...args: unknown[]) => unknown;

/** ipcMain: one handler per channel, as ipcMain.handle allows. */
export class IpcMainDouble {
  readonly handlers = new Map<string, InvokeListener>();

  handle(channel: string, listener: InvokeListener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /**
   * What ipcRenderer.invoke(channel, ...args) from `frame` of `sender` does: the handler's
   * result, or a rejection carrying the handler's error message. Arguments are
   * structured-cloned on the way, as Electron does.
   */
  async invoke(sender: WebContentsDouble, frame: FrameDouble | null, channel: string, ...args: unknown[]): Promise<unknown> {
    const listener = this.handlers.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    try {
      return structuredClone(await listener({ sender, senderFrame: frame }, ...structuredClone(args)));
    } catch (err) {
      throw new Error(`Error invoking remote method '${channel}': ${String(err)}`);
    }
  }
}

/**
 * ipcRenderer in one page: invoke goes to `main` as from `frame` of `contents` when given,
 * otherwise it is recorded and answered by `replies`; deliver() is a message from the main
 * process (webContents.send), emitted with an event object as Electron does.
 */
export class IpcRendererDouble extends EventEmitter {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  readonly replies = new Map<string, unknown>();

  constructor(private readonly link?: { main: IpcMainDouble; contents: WebContentsDouble; frame: FrameDouble | null }) {
    super();
  }

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    if (this.link) return this.link.main.invoke(this.link.contents, this.link.frame, channel, ...args);
    return Promise.resolve(this.replies.get(channel));
  }

  deliver(channel: string, ...args: unknown[]): void {
    this.emit(channel, { sender: this }, ...args);
  }
}

/**
 * powerMonitor: an EventEmitter that the test makes emit 'lock-screen', 'suspend', ...; and
 * getSystemIdleState(), which answers `idleState` (set by the test) and counts its calls.
 */
export class PowerMonitorDouble extends EventEmitter {
  idleState: 'active' | 'idle' | 'locked' | 'unknown' = 'active';
  idleStateCalls = 0;
  getSystemIdleState = (_idleThreshold: number): 'active' | 'idle' | 'locked' | 'unknown' => {
    this.idleStateCalls++;
    return this.idleState;
  };
}

/** shell.openExternal: records each URL; rejects while `failing` is set. */
export class ShellDouble {
  readonly opened: string[] = [];
  failing = false;

  openExternal = async (url: string): Promise<void> => {
    if (this.failing) throw new Error(`Failed to open ${url}`);
    this.opened.push(url);
  };
}

type HeadersListener = (
  details: { responseHeaders?: Record<string, string[]> },
  callback: (response: { responseHeaders?: Record<string, string[] | string> }) => void,
) => void;

/** A session's security hooks, as secureSession sets them. */
export class SessionDouble {
  headersListener: HeadersListener | undefined;
  permissionRequest: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  permissionCheck: (() => boolean) | undefined;
  devicePermission: (() => boolean) | undefined;

  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener): void => {
      this.headersListener = listener;
    },
  };

  setPermissionRequestHandler(handler: NonNullable<SessionDouble['permissionRequest']>): void {
    this.permissionRequest = handler;
  }

  setPermissionCheckHandler(handler: () => boolean): void {
    this.permissionCheck = handler;
  }

  setDevicePermissionHandler(handler: () => boolean): void {
    this.devicePermission = handler;
  }

  /** The response headers Chromium would use for a response with `headers`. */
  respond(headers: Record<string, string[]>): Record<string, string[] | string> | undefined {
    let out: Record<string, string[] | string> | undefined;
    this.headersListener?.({ responseHeaders: headers }, (r) => (out = r.responseHeaders));
    return out;
  }

  /** What a permission request (camera, notifications, ...) is answered. */
  requestPermission(permission: string): boolean | undefined {
    let granted: boolean | undefined;
    this.permissionRequest?.(undefined, permission, (g) => (granted = g));
    return granted;
  }
}

/** A menu item as the shell builds them (Electron's MenuItemConstructorOptions, the parts tests read). */
export interface MenuItemDouble {
  id?: string;
  label?: string;
  role?: string;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemDouble[];
}

/** Menu.buildFromTemplate: the menu is its template. */
export const MenuDouble = {
  buildFromTemplate: (template: MenuItemDouble[]): { template: MenuItemDouble[] } => ({ template }),
};

/** A nativeImage: its file and its size; resize() gives another of the new size. */
export class ImageDouble {
  constructor(
    readonly path: string,
    readonly size: { width: number; height: number },
  ) {}
  getSize(): { width: number; height: number } {
    return this.size;
  }
  resize(size: { width: number; height: number }): ImageDouble {
    return new ImageDouble(this.path, size);
  }
}

/** nativeImage.createFromPath: the real PNG's size from its IHDR chunk, as Electron would read it. */
export const NativeImageDouble = {
  createFromPath(path: string): ImageDouble {
    const bytes = readFileSync(path);
    return new ImageDouble(path, { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });
  },
};

/** A Tray: records its images, tooltip, menu and destruction; every tray made is in `TrayDouble.all`. */
export class TrayDouble extends EventEmitter {
  static all: TrayDouble[] = [];
  readonly images: ImageDouble[];
  tooltip = '';
  menu: MenuItemDouble[] = [];
  destroyed = false;

  constructor(image: ImageDouble) {
    super();
    this.images = [image];
    TrayDouble.all.push(this);
  }

  /** The file of the image shown now. */
  get image(): string {
    return this.images.at(-1)!.path;
  }

  setImage(image: ImageDouble): void {
    this.images.push(image);
  }

  setToolTip(text: string): void {
    this.tooltip = text;
  }

  setContextMenu(menu: { template: MenuItemDouble[] }): void {
    this.menu = menu.template;
  }

  destroy(): void {
    this.destroyed = true;
  }
}
