import type { IpcMain, WebContents } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { DESKTOP_CHANNELS, type KeptSession } from '../../shared/desktop-api';
import { IpcMainDouble, mainFrameAt, subFrameAt, WebContentsDouble, type FrameDouble } from '../../test/support/electron-double';
import { registerDesktopIpc, sendLock, type DesktopIpcHandlers, type IpcMainLike, type LockTarget } from './ipc';

// Electron's own objects fit the narrow shapes the module asks for (checked by tsc).
export const electronFits = (ipcMain: IpcMain, contents: WebContents): [IpcMainLike<WebContents>, LockTarget] => [ipcMain, contents];

const ORIGIN = 'http://127.0.0.1:49152';
const TOKEN = 'c2Vzc2lvbg.' + 'a'.repeat(43);

interface Setup {
  ipc: IpcMainDouble;
  window: WebContentsDouble;
  calls: { name: string; args: unknown[] }[];
  logs: string[];
  kept: KeptSession | null;
  dispose: () => void;
  call(channel: string, ...args: unknown[]): Promise<unknown>;
  callFrom(contents: WebContentsDouble, frame: FrameDouble | null, channel: string, ...args: unknown[]): Promise<unknown>;
}

let t: Setup;

beforeEach(() => {
  const ipc = new IpcMainDouble();
  const window = new WebContentsDouble(`${ORIGIN}/patients`);
  const calls: Setup['calls'] = [];
  const logs: string[] = [];
  const state = { kept: null as KeptSession | null };
  const handlers: DesktopIpcHandlers = {
    resumeSession: () => {
      calls.push({ name: 'resumeSession', args: [] });
      return state.kept;
    },
    keepSession: (session) => {
      calls.push({ name: 'keepSession', args: [session] });
      state.kept = session;
    },
    endSession: async () => {
      calls.push({ name: 'endSession', args: [] });
      state.kept = null;
    },
    openExternal: (url) => {
      calls.push({ name: 'openExternal', args: [url] });
      if (url.includes('boom')) throw new Error(`cannot open ${url}`);
    },
  };
  const dispose = registerDesktopIpc(ipc, { appOrigin: ORIGIN, isAppWindow: (c) => c === window, handlers, log: (l) => logs.push(l) });
  t = {
    ipc,
    window,
    calls,
    logs,
    get kept() {
      return state.kept;
    },
    set kept(v) {
      state.kept = v;
    },
    dispose,
    call: (channel, ...args) => ipc.invoke(window, mainFrameAt(window.url), channel, ...args),
    callFrom: (contents, frame, channel, ...args) => ipc.invoke(contents, frame, channel, ...args),
  };
});

/** Every log line so far, checked to quote none of the given secrets. */
function expectLogsFreeOf(...secrets: string[]): void {
  for (const line of t.logs) for (const s of secrets) expect(line).not.toContain(s);
}

describe('registerDesktopIpc', () => {
  it('handles exactly the invoke-style channels of DESKTOP_CHANNELS, and removes them again', () => {
    const { lock, ...invokable } = DESKTOP_CHANNELS;
    expect([...t.ipc.handlers.keys()].sort()).toEqual(Object.values(invokable).sort());
    expect(t.ipc.handlers.has(lock)).toBe(false); // main -> renderer only
    t.dispose();
    expect(t.ipc.handlers.size).toBe(0);
  });

  it('good calls from the main frame of our window reach their handlers', async () => {
    expect(await t.call(DESKTOP_CHANNELS.resumeSession)).toBeNull();
    await t.call(DESKTOP_CHANNELS.keepSession, { refreshToken: TOKEN });
    expect(await t.call(DESKTOP_CHANNELS.resumeSession)).toEqual({ refreshToken: TOKEN });
    await t.call(DESKTOP_CHANNELS.openExternal, 'https://hl7.org/fhir/R4/patient.html?x=1');
    await t.call(DESKTOP_CHANNELS.endSession);
    expect(t.kept).toBeNull();
    expect(t.calls).toEqual([
      { name: 'resumeSession', args: [] },
      { name: 'keepSession', args: [{ refreshToken: TOKEN }] },
      { name: 'resumeSession', args: [] },
      { name: 'openExternal', args: ['https://hl7.org/fhir/R4/patient.html?x=1'] },
      { name: 'endSession', args: [] },
    ]);
    expect(t.logs).toEqual([]);
  });

  describe('refuses senders other than the main frame of our window on our origin', () => {
    const cases: [string, () => [WebContentsDouble, FrameDouble | null]][] = [
      ['another origin', () => [t.window, mainFrameAt('https://evil.example/')]],
      ['another port of loopback', () => [t.window, mainFrameAt('http://127.0.0.1:49153/')]],
      ['https on our host and port', () => [t.window, mainFrameAt('https://127.0.0.1:49152/')]],
      ['a file: page', () => [t.window, mainFrameAt('file:///etc/passwd')]],
      ['about:blank', () => [t.window, mainFrameAt('about:blank')]],
      ['an empty URL', () => [t.window, mainFrameAt('')]],
      ['a subframe of our origin', () => [t.window, subFrameAt(`${ORIGIN}/frame`, `${ORIGIN}/`)]],
      ['a subframe of another origin', () => [t.window, subFrameAt('https://evil.example/', `${ORIGIN}/`)]],
      ['a frame that is gone', () => [t.window, null]],
      ['our origin in a web contents that is not our window', () => [new WebContentsDouble(`${ORIGIN}/`), mainFrameAt(`${ORIGIN}/`)]],
    ];
    for (const [name, sender] of cases) {
      it(name, async () => {
        t.kept = { refreshToken: TOKEN };
        const [contents, frame] = sender();
        for (const [channel, args] of [
          [DESKTOP_CHANNELS.resumeSession, []],
          [DESKTOP_CHANNELS.keepSession, [{ refreshToken: 'x'.repeat(20) }]],
          [DESKTOP_CHANNELS.endSession, []],
          [DESKTOP_CHANNELS.openExternal, ['https://example.org/?patient=Smith']],
        ] as const) {
          await expect(t.callFrom(contents, frame, channel, ...args)).rejects.toThrow(`${channel} refused: not sent by Flint's own window`);
        }
        expect(t.calls).toEqual([]);
        expect(t.kept).toEqual({ refreshToken: TOKEN });
        expect(t.logs).toHaveLength(4);
        for (const line of t.logs) expect(line).toMatch(/^flint: IPC flint:[a-z-]+ refused: /);
        expectLogsFreeOf('xxxxxxxxxxxxxxxx', 'Smith', 'evil', 'passwd');
      });
    }
  });

  describe('keepSession takes exactly { refreshToken: string, username?: string }, the token 16..4096 printable characters', () => {
    const bad: [string, unknown[]][] = [
      ['no argument', []],
      ['two arguments', [{ refreshToken: TOKEN }, { refreshToken: TOKEN }]],
      ['null', [null]],
      ['a string', [TOKEN]],
      ['an array', [[TOKEN]]],
      ['an empty object', [{}]],
      ['an extra field', [{ refreshToken: TOKEN, locked: false }]],
      ['another field name', [{ refresh_token: TOKEN }]],
      ['a number', [{ refreshToken: 1234567890123456 }]],
      ['a nested object', [{ refreshToken: { toString: 'x' } }]],
      ['too short', [{ refreshToken: 'x'.repeat(15) }]],
      ['too long', [{ refreshToken: 'a'.repeat(4097) }]],
      ['a space', [{ refreshToken: `${TOKEN} x` }]],
      ['a newline', [{ refreshToken: `${TOKEN}\nx` }]],
      ['a control character', [{ refreshToken: `${TOKEN}\u0000` }]],
      ['non-ASCII', [{ refreshToken: `${TOKEN}é` }]],
      ['a Date', [new Date()]],
      ['a Map', [new Map([['refreshToken', TOKEN]])]],
      ['a username alone', [{ username: 'nora' }]],
      ['a username that is not a string', [{ refreshToken: TOKEN, username: 7 }]],
      ['an empty username', [{ refreshToken: TOKEN, username: '' }]],
      ['a username with a control character', [{ refreshToken: TOKEN, username: 'no\u0007ra' }]],
      ['a username with a newline', [{ refreshToken: TOKEN, username: 'nora\nforged log line' }]],
      ['a username too long', [{ refreshToken: TOKEN, username: 'n'.repeat(257) }]],
      ['a username and an extra field', [{ refreshToken: TOKEN, username: 'nora', admin: true }]],
    ];
    for (const [name, args] of bad) {
      it(`refuses ${name}`, async () => {
        await expect(t.call(DESKTOP_CHANNELS.keepSession, ...args)).rejects.toThrow(/flint:keep-session refused: \S/);
        expect(t.calls).toEqual([]);
        expect(t.logs).toHaveLength(1);
        expectLogsFreeOf(TOKEN, 'aaaaaaaaaaaaaaaa');
      });
    }
    it('takes the shortest and the longest', async () => {
      await t.call(DESKTOP_CHANNELS.keepSession, { refreshToken: 'x'.repeat(16) });
      await t.call(DESKTOP_CHANNELS.keepSession, { refreshToken: '~'.repeat(4096) });
      expect(t.calls.map((c) => c.name)).toEqual(['keepSession', 'keepSession']);
    });
    it("takes the user's name with the token, and passes on exactly the two", async () => {
      await t.call(DESKTOP_CHANNELS.keepSession, { refreshToken: TOKEN, username: 'Nóra Ó Briain' });
      await t.call(DESKTOP_CHANNELS.keepSession, { refreshToken: TOKEN, username: 'n'.repeat(256) });
      expect(t.calls).toEqual([
        { name: 'keepSession', args: [{ refreshToken: TOKEN, username: 'Nóra Ó Briain' }] },
        { name: 'keepSession', args: [{ refreshToken: TOKEN, username: 'n'.repeat(256) }] },
      ]);
    });
  });

  it('resumeSession and endSession take no arguments', async () => {
    await expect(t.call(DESKTOP_CHANNELS.resumeSession, 'x')).rejects.toThrow('flint:resume-session refused: takes no arguments');
    await expect(t.call(DESKTOP_CHANNELS.endSession, undefined)).rejects.toThrow('flint:end-session refused: takes no arguments');
    expect(t.calls).toEqual([]);
  });

  describe('openExternal takes one https:// URL without credentials, at most 2048 characters', () => {
    const bad: [string, unknown[]][] = [
      ['no argument', []],
      ['two arguments', ['https://example.org/', 'https://example.org/']],
      ['a number', [42]],
      ['an object', [{ url: 'https://example.org/' }]],
      ['a relative URL', ['/fhir/Patient']],
      ['http:', ['http://example.org/?patient=Smith']],
      ['file:', ['file:///home/user/Smith.pdf']],
      ['javascript:', ['javascript:alert(1)']],
      ['data:', ['data:text/html,<b>Smith</b>']],
      ['a custom protocol', ['ms-settings:privacy']],
      ['credentials', ['https://user:Smith@example.org/']],
      ['a user name', ['https://Smith@example.org/']],
      ['too long', [`https://example.org/${'a'.repeat(2048)}`]],
      ['an empty string', ['']],
    ];
    for (const [name, args] of bad) {
      it(`refuses ${name}`, async () => {
        await expect(t.call(DESKTOP_CHANNELS.openExternal, ...args)).rejects.toThrow(/flint:open-external refused: \S/);
        expect(t.calls).toEqual([]);
        expect(t.logs).toHaveLength(1);
        expectLogsFreeOf('Smith', 'alert', 'privacy');
      });
    }
    it('hands on the normalized URL', async () => {
      await t.call(DESKTOP_CHANNELS.openExternal, 'HTTPS://Example.ORG/a/../b?q=1#top');
      expect(t.calls).toEqual([{ name: 'openExternal', args: ['https://example.org/b?q=1#top'] }]);
    });
  });

  it("a handler's own error rejects with the channel alone and logs its name, not its message", async () => {
    await expect(t.call(DESKTOP_CHANNELS.openExternal, 'https://example.org/boom?patient=Smith')).rejects.toThrow(/flint:open-external failed$/);
    expect(t.logs).toEqual(['flint: IPC flint:open-external failed: Error']);
  });

  it('an unknown channel has no handler', async () => {
    await expect(t.call('flint:invoke', 'anything')).rejects.toThrow("No handler registered for 'flint:invoke'");
  });
});

describe('sendLock', () => {
  it("sends the reason on the lock channel to live windows showing the app's origin", () => {
    const ours = new WebContentsDouble(`${ORIGIN}/record/Patient/p1`);
    const elsewhere = new WebContentsDouble('https://example.org/');
    const gone = new WebContentsDouble(`${ORIGIN}/`);
    gone.destroyed = true;
    expect(sendLock([ours, elsewhere, gone], 'suspend', ORIGIN)).toBe(1);
    expect(ours.sent).toEqual([[DESKTOP_CHANNELS.lock, 'suspend']]);
    expect(elsewhere.sent).toEqual([]);
    expect(gone.sent).toEqual([]);
  });
});
