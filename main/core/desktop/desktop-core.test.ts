/**
 * runDesktopCore in this process, over an in-memory parent port (the real one is Electron's
 * process.parentPort or Node's IPC: main/shell/core-host.test.ts runs the built entry over
 * Node's). Real workstations on temp data dirs and the real keychain (scripts/with-keyring.sh).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forgetDataDir } from '../../../test/support/keychain';
import { tempDataDir } from '../../../test/support/workstation';
import type { CoreEvent } from './core-messages';
import { runDesktopCore } from './desktop-core';
import type { ParentPort } from './parent-port';

const dirs: string[] = [];
const newDir = () => {
  const d = tempDataDir('flint-desktop-core-');
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await forgetDataDir(d);
});

/** A parent port in memory: what the core posts, and a way to send it requests or go away. */
function memoryPort() {
  const events: CoreEvent[] = [];
  const waiting: Array<() => void> = [];
  let listener: (message: unknown) => void = () => undefined;
  let gone: () => void = () => undefined;
  const port: ParentPort = {
    post: async (event) => {
      events.push(structuredClone(event));
      for (const w of waiting.splice(0)) w();
    },
    onMessage: (l) => (listener = l),
    onDisconnect: (l) => (gone = l),
  };
  const next = <T extends CoreEvent['type']>(type: T): Promise<Extract<CoreEvent, { type: T }>> =>
    new Promise((resolve) => {
      const check = () => {
        const found = events.find((e) => e.type === type);
        if (found) resolve(found as Extract<CoreEvent, { type: T }>);
        else waiting.push(check);
      };
      check();
    });
  return { port, events, next, send: (m: unknown) => listener(structuredClone(m)), disconnect: () => gone() };
}

const silent = () => undefined;

describe('runDesktopCore', () => {
  it('serves, streams the sync status, answers requests, ignores junk, and stops on request', async () => {
    const dataDir = newDir();
    const p = memoryPort();
    const running = runDesktopCore(p.port, { dataDir, log: silent });
    // Sent while the workstation starts: answered once it serves.
    p.send({ type: 'set-sync-paused', id: 7, paused: true });
    p.send({ type: 'format-disk' });
    p.send('stop');
    const ready = await p.next('ready');
    expect(ready.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.setupUrl).toMatch(/\/setup#token=/);
    expect((await fetch(`${ready.baseUrl}/fhir/metadata`)).status).toBe(200);
    expect((await p.next('sync-status')).status).toMatchObject({ configured: false, state: 'offline' });
    expect(await p.next('sync-paused')).toEqual({ type: 'sync-paused', id: 7, ok: false, message: 'Sync is not set up on this computer.' });
    p.send({ type: 'stop' });
    expect(await running).toBe(0);
    const types = p.events.map((e) => e.type);
    expect(types[0]).toBe('ready');
    expect(types[types.length - 1]).toBe('stopped');
    expect(types.filter((t) => t === 'stopped')).toHaveLength(1);
    // Its HTTP listener is gone with it.
    await expect(fetch(`${ready.baseUrl}/fhir/metadata`)).rejects.toThrow();
  });

  it('a stop that comes while it starts: never ready, stopped, and the data dir is free again', async () => {
    const dataDir = newDir();
    const p = memoryPort();
    const running = runDesktopCore(p.port, { dataDir, log: silent });
    p.send({ type: 'stop' });
    expect(await running).toBe(0);
    expect(p.events.map((e) => e.type)).toEqual(['stopped']);
    const again = memoryPort();
    const second = runDesktopCore(again.port, { dataDir, log: silent });
    await again.next('ready');
    again.send({ type: 'stop' });
    expect(await second).toBe(0);
  });

  it('stops when the parent goes away, without posting to it', async () => {
    const p = memoryPort();
    const running = runDesktopCore(p.port, { dataDir: newDir(), log: silent });
    await p.next('ready');
    p.disconnect();
    expect(await running).toBe(0);
    expect(p.events.map((e) => e.type)).not.toContain('stopped');
  });

  it('reports a start that fails as `failed`, with the data dir and without its content, and returns 1', async () => {
    const dataDir = join(newDir(), 'a-file');
    writeFileSync(dataDir, 'Jane Example 1961-04-12\n');
    const p = memoryPort();
    const lines: string[] = [];
    expect(await runDesktopCore(p.port, { dataDir, log: (l) => lines.push(l) })).toBe(1);
    expect(p.events).toHaveLength(1);
    const failed = p.events[0] as Extract<CoreEvent, { type: 'failed' }>;
    expect(failed.type).toBe('failed');
    expect(failed.message).toMatch(/^Flint could not start/);
    expect(failed.message).toContain(dataDir);
    expect(failed.message).not.toContain('Jane');
    expect(lines).toEqual([failed.message]);
  });
});
