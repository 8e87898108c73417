import { describe, expect, it } from 'vitest';
import { parseCoreEvent, parseCoreRequest } from './core-messages';

describe('parseCoreRequest', () => {
  it('accepts the two requests', () => {
    expect(parseCoreRequest({ type: 'stop' })).toEqual({ type: 'stop' });
    expect(parseCoreRequest({ type: 'set-sync-paused', id: 3, paused: true })).toEqual({ type: 'set-sync-paused', id: 3, paused: true });
  });

  it('drops extra fields', () => {
    expect(parseCoreRequest({ type: 'stop', now: 'please' })).toEqual({ type: 'stop' });
  });

  it.each([
    undefined,
    null,
    'stop',
    [],
    { type: 'quit' },
    { type: 'set-sync-paused', id: 1, paused: 'yes' },
    { type: 'set-sync-paused', id: -1, paused: true },
    { type: 'set-sync-paused', id: 1.5, paused: true },
    { type: 'set-sync-paused', paused: true },
  ])('refuses %j', (x) => {
    expect(parseCoreRequest(x)).toBeUndefined();
  });
});

describe('parseCoreEvent', () => {
  it('accepts ready with and without a setup URL', () => {
    expect(parseCoreEvent({ type: 'ready', baseUrl: 'http://127.0.0.1:1', workstationId: 'w' })).toEqual({ type: 'ready', baseUrl: 'http://127.0.0.1:1', workstationId: 'w' });
    expect(parseCoreEvent({ type: 'ready', baseUrl: 'http://127.0.0.1:1', workstationId: 'w', setupUrl: 'http://127.0.0.1:1/setup#token=t' })).toMatchObject({
      setupUrl: 'http://127.0.0.1:1/setup#token=t',
    });
  });

  it('accepts the other events', () => {
    const status = { configured: false, state: 'offline', pending: 0 };
    expect(parseCoreEvent({ type: 'sync-status', status })).toEqual({ type: 'sync-status', status });
    expect(parseCoreEvent({ type: 'sync-paused', id: 2, ok: false, message: 'no' })).toEqual({ type: 'sync-paused', id: 2, ok: false, message: 'no' });
    expect(parseCoreEvent({ type: 'sync-paused', id: 2, ok: true })).toEqual({ type: 'sync-paused', id: 2, ok: true });
    expect(parseCoreEvent({ type: 'stopped' })).toEqual({ type: 'stopped' });
    expect(parseCoreEvent({ type: 'failed', message: 'Flint could not start' })).toEqual({ type: 'failed', message: 'Flint could not start' });
  });

  it.each([
    { type: 'ready', baseUrl: 1, workstationId: 'w' },
    { type: 'ready', baseUrl: 'http://x', workstationId: 'w', setupUrl: 5 },
    { type: 'sync-status', status: 'idle' },
    { type: 'sync-status', status: { configured: true } },
    { type: 'sync-paused', id: 'a', ok: true },
    { type: 'failed' },
    { type: 'hello' },
    42,
  ])('refuses %j', (x) => {
    expect(parseCoreEvent(x)).toBeUndefined();
  });
});
