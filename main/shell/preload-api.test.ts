import type { IpcRenderer } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { DESKTOP_CHANNELS, type DesktopLockReason, type FlintDesktopApi } from '../../shared/desktop-api';
import { IpcMainDouble, IpcRendererDouble, mainFrameAt, WebContentsDouble } from '../../test/support/electron-double';
import { registerDesktopIpc, sendLock } from './ipc';
import { createDesktopApi, type IpcRendererLike } from './preload-api';
import { createSessionKeeper } from './session-keeper';

// Electron's ipcRenderer fits the narrow shape (checked by tsc).
export const electronFits = (ipc: IpcRenderer): IpcRendererLike => ipc;

/** Every key of FlintDesktopApi; tsc fails below if one is missing here. */
const API_KEYS = ['version', 'resumeSession', 'keepSession', 'endSession', 'onLock', 'openExternal'] as const;
type Missing = Exclude<keyof FlintDesktopApi, (typeof API_KEYS)[number]>;
export const allKeysListed: [Missing] extends [never] ? true : false = true;

const CHANNELS: readonly string[] = Object.values(DESKTOP_CHANNELS);
const TOKEN = 'c2Vzc2lvbg.' + 'b'.repeat(43);

let ipc: IpcRendererDouble;
let api: FlintDesktopApi;

beforeEach(() => {
  ipc = new IpcRendererDouble();
  api = createDesktopApi(ipc, '0.1.0');
});

/** Calls every function of the API once, with good arguments. */
async function callEverything(a: FlintDesktopApi): Promise<void> {
  a.version();
  await a.resumeSession();
  await a.keepSession({ refreshToken: TOKEN });
  await a.endSession();
  a.onLock(() => undefined)();
  await a.openExternal('https://example.org/');
}

describe('createDesktopApi', () => {
  it('has exactly the functions of FlintDesktopApi, each named after its key, and is frozen', () => {
    expect(Object.keys(api).sort()).toEqual([...API_KEYS].sort());
    expect(Object.getOwnPropertySymbols(api)).toEqual([]);
    for (const key of API_KEYS) {
      expect(typeof api[key], key).toBe('function');
      expect(api[key].name).toBe(key);
    }
    expect(Object.isFrozen(api)).toBe(true);
    expect(() => {
      (api as unknown as Record<string, unknown>).invoke = () => undefined;
    }).toThrow(TypeError);
    expect('invoke' in api).toBe(false);
  });

  it('each function uses its own channel, with only what that channel takes', async () => {
    expect(api.version()).toBe('0.1.0');
    expect(ipc.invoked).toEqual([]); // the version is known to the preload
    await api.resumeSession();
    await api.keepSession({ refreshToken: TOKEN });
    await api.endSession();
    await api.openExternal('https://example.org/a?b=c');
    expect(ipc.invoked).toEqual([
      { channel: DESKTOP_CHANNELS.resumeSession, args: [] },
      { channel: DESKTOP_CHANNELS.keepSession, args: [{ refreshToken: TOKEN }] },
      { channel: DESKTOP_CHANNELS.endSession, args: [] },
      { channel: DESKTOP_CHANNELS.openExternal, args: ['https://example.org/a?b=c'] },
    ]);
  });

  it('reaches no channel outside DESKTOP_CHANNELS, and listens on none but lock', async () => {
    const listened: string[] = [];
    const spy: IpcRendererLike = {
      invoke: (channel, ...args) => ipc.invoke(channel, ...args),
      on: (channel, listener) => {
        listened.push(channel);
        return ipc.on(channel, listener);
      },
      removeListener: (channel, listener) => ipc.removeListener(channel, listener),
    };
    await callEverything(createDesktopApi(spy, '1'));
    for (const { channel } of ipc.invoked) expect(CHANNELS).toContain(channel);
    expect(listened).toEqual([DESKTOP_CHANNELS.lock]);
  });

  it("keepSession sends the refresh token and the user's name only, whatever else the object carries", async () => {
    await api.keepSession({ refreshToken: TOKEN, extra: 'x' } as never);
    await api.keepSession({ refreshToken: TOKEN, username: 'nora', extra: 'x' } as never);
    await api.keepSession(null as never);
    expect(ipc.invoked.map((c) => c.args)).toEqual([[{ refreshToken: TOKEN }], [{ refreshToken: TOKEN, username: 'nora' }], [{ refreshToken: undefined }]]);
  });

  it('resumeSession returns a fresh { refreshToken } or null, whatever the reply', async () => {
    ipc.replies.set(DESKTOP_CHANNELS.resumeSession, { refreshToken: TOKEN, other: 1 });
    expect(await api.resumeSession()).toEqual({ refreshToken: TOKEN });
    ipc.replies.set(DESKTOP_CHANNELS.resumeSession, { refreshToken: TOKEN, username: 'nora' });
    expect(await api.resumeSession()).toEqual({ refreshToken: TOKEN, username: 'nora' });
    ipc.replies.set(DESKTOP_CHANNELS.resumeSession, { refreshToken: TOKEN, username: 7 });
    expect(await api.resumeSession()).toEqual({ refreshToken: TOKEN });
    for (const reply of [null, undefined, 'x', { refreshToken: 5 }]) {
      ipc.replies.set(DESKTOP_CHANNELS.resumeSession, reply);
      expect(await api.resumeSession()).toBeNull();
    }
  });

  it('onLock relays the reason only (not the IPC event), ignores anything else, and unsubscribes', () => {
    const heard: unknown[][] = [];
    const off = api.onLock((...args) => heard.push(args));
    ipc.deliver(DESKTOP_CHANNELS.lock, 'lock-screen');
    ipc.deliver(DESKTOP_CHANNELS.lock, 'suspend');
    ipc.deliver(DESKTOP_CHANNELS.lock, 'reboot');
    ipc.deliver(DESKTOP_CHANNELS.lock, { toString: () => 'suspend' });
    ipc.deliver(DESKTOP_CHANNELS.resumeSession, 'suspend');
    expect(heard).toEqual([['lock-screen'], ['suspend']]);
    expect(ipc.listenerCount(DESKTOP_CHANNELS.lock)).toBe(1);
    off();
    off(); // a second call changes nothing
    expect(ipc.listenerCount(DESKTOP_CHANNELS.lock)).toBe(0);
    ipc.deliver(DESKTOP_CHANNELS.lock, 'suspend');
    expect(heard).toHaveLength(2);
    expect(() => api.onLock('nope' as never)).toThrow(TypeError);
  });
});

describe('the preload API against the main side (ipc.ts, session-keeper.ts)', () => {
  const ORIGIN = 'http://127.0.0.1:41000';

  function wire(frameUrl: string) {
    const main = new IpcMainDouble();
    const window = new WebContentsDouble(`${ORIGIN}/`);
    const opened: string[] = [];
    const keeper = createSessionKeeper({ baseUrl: ORIGIN, notifyLock: () => undefined, log: () => undefined });
    registerDesktopIpc(main, {
      appOrigin: ORIGIN,
      isAppWindow: (c) => c === window,
      handlers: {
        resumeSession: () => keeper.resume(),
        keepSession: (s) => keeper.keep(s),
        endSession: () => keeper.end(),
        openExternal: (url) => void opened.push(url),
      },
      log: () => undefined,
    });
    const renderer = new IpcRendererDouble({ main, contents: window, frame: mainFrameAt(frameUrl) });
    return { api: createDesktopApi(renderer, '0.1.0'), renderer, window, keeper, opened };
  }

  it('keeps, resumes and ends a session; opens an https link; hears a lock', async () => {
    const w = wire(`${ORIGIN}/record`);
    expect(await w.api.resumeSession()).toBeNull();
    await w.api.keepSession({ refreshToken: TOKEN });
    expect(await w.api.resumeSession()).toEqual({ refreshToken: TOKEN });
    await w.api.endSession();
    expect(await w.api.resumeSession()).toBeNull();
    await w.api.openExternal('https://example.org/');
    await expect(w.api.openExternal('http://example.org/')).rejects.toThrow(/refused: only https/);
    expect(w.opened).toEqual(['https://example.org/']);

    const heard: DesktopLockReason[] = [];
    w.api.onLock((r) => heard.push(r));
    sendLock([w.window], 'lock-screen', ORIGIN);
    for (const [channel, ...args] of w.window.sent) w.renderer.deliver(channel as string, ...args);
    expect(heard).toEqual(['lock-screen']);
  });

  it('a page of another origin in the window gets nothing', async () => {
    const w = wire('https://evil.example/');
    w.keeper.keep({ refreshToken: TOKEN });
    await expect(w.api.resumeSession()).rejects.toThrow(/refused/);
    await expect(w.api.keepSession({ refreshToken: 'x'.repeat(40) })).rejects.toThrow(/refused/);
    expect(w.keeper.resume()).toEqual({ refreshToken: TOKEN });
  });
});
