/**
 * The preload as scripts/build.mjs bundles it (CJS for Electron's sandboxed preload, whose
 * `require` offers 'electron' and little else), run in a fresh V8 context with that
 * `require` standing in: it must pull in nothing but electron, shared/ and preload-api.ts,
 * and expose exactly createDesktopApi's object as `window.flint`.
 */
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { DESKTOP_CHANNELS } from '../../shared/desktop-api';
import { IpcRendererDouble } from '../../test/support/electron-double';
import { REPO } from '../../test/support/flint-process';

async function bundle(): Promise<{ code: string; inputs: string[] }> {
  // The options of scripts/build.mjs's preload entry.
  const r = await build({
    absWorkingDir: REPO,
    entryPoints: ['main/shell/preload.ts'],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'cjs',
    target: 'chrome120',
    external: ['electron'],
    logLevel: 'silent',
  });
  return { code: r.outputFiles[0]!.text, inputs: Object.keys(r.metafile.inputs).sort() };
}

describe('preload.ts, bundled', () => {
  it('imports only electron, shared/desktop-api.ts and preload-api.ts', async () => {
    const { code, inputs } = await bundle();
    expect(inputs).toEqual(['main/shell/preload-api.ts', 'main/shell/preload.ts', 'shared/desktop-api.ts']);
    expect([...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual(['electron']);
  });

  /** Runs the bundle as Electron would; what it exposed, what it required, and the ipcRenderer it got. */
  function run(code: string, argv: string[]) {
    const exposed = new Map<string, unknown>();
    const ipcRenderer = new IpcRendererDouble();
    const required: string[] = [];
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`module not found: ${name}`);
      return { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) }, ipcRenderer };
    };
    const module = { exports: {} };
    runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, process: { argv } });
    return { exposed, ipcRenderer, required };
  }

  it("exposes window.flint with the version from the renderer's arguments, bound to ipcRenderer", async () => {
    const { code } = await bundle();
    const { exposed, ipcRenderer, required } = run(code, ['/opt/Flint/flint', '--type=renderer', '--flint-version=1.2.3']);
    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['flint']);
    const flint = exposed.get('flint') as { version(): string; endSession(): Promise<void> };
    expect(Object.isFrozen(flint)).toBe(true);
    expect(flint.version()).toBe('1.2.3');
    await flint.endSession();
    expect(ipcRenderer.invoked).toEqual([{ channel: DESKTOP_CHANNELS.endSession, args: [] }]);
  });

  it("says 'unknown' when the shell passed no version", async () => {
    const { exposed } = run((await bundle()).code, ['/opt/Flint/flint']);
    expect((exposed.get('flint') as { version(): string }).version()).toBe('unknown');
  });
});
