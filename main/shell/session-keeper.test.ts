/**
 * The keeper's memory and its failure paths, over real loopback sockets: a listener that
 * records what reaches it, one that never answers, and a port nobody listens on. The lock
 * itself against a real core: session-keeper.int.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesktopLockReason } from '../../shared/desktop-api';
import { createSessionKeeper, type SessionKeeperOptions } from './session-keeper';

const TOKEN = 'c2Vzc2lvbg.' + 'k'.repeat(43);

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A loopback listener that records each request and answers with `reply` (or never). */
async function listener(reply?: (res: ServerResponse) => void) {
  const seen: { method: string; url: string; type: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'] ?? '', body });
      reply?.(res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function keeperAt(baseUrl: string, extra: Partial<SessionKeeperOptions> = {}) {
  const notified: DesktopLockReason[] = [];
  const logs: string[] = [];
  const keeper = createSessionKeeper({ baseUrl, notifyLock: (r) => notified.push(r), log: (l) => logs.push(l), ...extra });
  return { keeper, notified, logs };
}

describe('createSessionKeeper', () => {
  it('keeps the latest session in memory, hands out copies, and forgets it on end()', () => {
    const { keeper } = keeperAt('http://127.0.0.1:9');
    expect(keeper.resume()).toBeNull();
    keeper.keep({ refreshToken: 'first-token-0123456' });
    keeper.keep({ refreshToken: TOKEN });
    const copy = keeper.resume()!;
    expect(copy).toEqual({ refreshToken: TOKEN });
    copy.refreshToken = 'changed-by-the-caller';
    expect(keeper.resume()).toEqual({ refreshToken: TOKEN });
    keeper.end();
    expect(keeper.resume()).toBeNull();
  });

  it("keeps the user's name given with a token, and never carries it over to a token given without one", () => {
    const { keeper } = keeperAt('http://127.0.0.1:9');
    keeper.keep({ refreshToken: TOKEN, username: 'nora' });
    expect(keeper.resume()).toEqual({ refreshToken: TOKEN, username: 'nora' });
    keeper.keep({ refreshToken: 'another-token-0123456' });
    expect(keeper.resume()).toEqual({ refreshToken: 'another-token-0123456' });
  });

  it('lock() posts the form the UI posts to <baseUrl>/auth/lock, then notifies', async () => {
    const core = await listener((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const { keeper, notified, logs } = keeperAt(core.baseUrl);
    keeper.keep({ refreshToken: TOKEN });
    await keeper.lock('lock-screen');
    expect(core.seen).toEqual([
      { method: 'POST', url: '/auth/lock', type: 'application/x-www-form-urlencoded', body: `client_id=flint-ui&refresh_token=${TOKEN}` },
    ]);
    expect(notified).toEqual(['lock-screen']);
    expect(logs).toEqual([]);
  });

  it('with no kept session, lock() only notifies', async () => {
    const core = await listener((res) => res.end('{}'));
    const { keeper, notified } = keeperAt(core.baseUrl);
    await keeper.lock('suspend');
    keeper.keep({ refreshToken: TOKEN });
    keeper.end();
    await keeper.lock('lock-screen');
    expect(core.seen).toEqual([]);
    expect(notified).toEqual(['suspend', 'lock-screen']);
  });

  it('a core that does not answer in time: logged without the token, windows told all the same', async () => {
    const core = await listener(); // reads the request, never answers
    const { keeper, notified, logs } = keeperAt(core.baseUrl, { lockTimeoutMs: 200 });
    keeper.keep({ refreshToken: TOKEN });
    await keeper.lock('suspend'); // never returns unless the timeout ends the request
    // Sent once (on a starved machine the 200 ms may pass before it is even written).
    expect(core.seen.length).toBeLessThanOrEqual(1);
    expect(notified).toEqual(['suspend']);
    expect(logs).toEqual(['flint: could not lock the session at the core: TimeoutError']);
  });

  it('a core that is gone: logged, windows told', async () => {
    const gone = await listener();
    const closed = servers.pop()!;
    await new Promise((r) => closed.close(r));
    const { keeper, notified, logs } = keeperAt(gone.baseUrl);
    keeper.keep({ refreshToken: TOKEN });
    await keeper.lock('lock-screen');
    expect(notified).toEqual(['lock-screen']);
    expect(logs).toEqual(['flint: could not lock the session at the core: TypeError']);
  });

  it('a refusal that is not OAuth JSON: the status alone', async () => {
    const core = await listener((res) => res.writeHead(502).end(`<html>${TOKEN}</html>`));
    const { keeper, logs } = keeperAt(core.baseUrl);
    keeper.keep({ refreshToken: TOKEN });
    await keeper.lock('suspend');
    expect(logs).toEqual(['flint: the core refused to lock the session (502)']);
  });
});
