import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parentPortOf } from './parent-port';

describe('parentPortOf', () => {
  it("uses Electron's process.parentPort when there is one: messages arrive as { data } events", async () => {
    // Electron cannot run here: a stand-in with the parent port's two members.
    const emitter = new EventEmitter();
    const posted: unknown[] = [];
    const electronPort = { on: (event: string, l: (e: unknown) => void) => emitter.on(event, l), postMessage: (m: unknown) => posted.push(m) };
    const proc = Object.assign(new EventEmitter(), { parentPort: electronPort, send: undefined, connected: false }) as unknown as NodeJS.Process;
    const port = parentPortOf(proc);
    expect(port).toBeDefined();
    const received: unknown[] = [];
    port!.onMessage((m) => received.push(m));
    emitter.emit('message', { data: { type: 'stop' } });
    expect(received).toEqual([{ type: 'stop' }]);
    const t0 = performance.now();
    await port!.post({ type: 'stopped' });
    expect(posted).toEqual([{ type: 'stopped' }]);
    // A grace period before the caller may exit: postMessage has no completion callback.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
  });

  it('finds no parent in a process started by hand (no parentPort, no IPC channel)', () => {
    expect(parentPortOf(Object.assign(new EventEmitter(), { send: undefined, connected: false }) as unknown as NodeJS.Process)).toBeUndefined();
    expect(parentPortOf(Object.assign(new EventEmitter(), { send: () => true, connected: false }) as unknown as NodeJS.Process)).toBeUndefined();
  });
});
