/**
 * First-run setup, transport-free: the token's rules, the order of refusals, attempts
 * limited, one administrator however many requests race. Over HTTP with a real `flint
 * serve`: test/integration/ui-session.int.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FhirError } from '../../../shared/fhir/outcome';
import { openAccounts, type Accounts } from '../auth/accounts';
import { createSetupRoute, createSetupToken, SETUP_TOKEN_TTL_MS, type SetupToken } from './setup';
import type { FlintApiResponse, FlintRoute } from './types';

let dir: string;
let accounts: Accounts;
let clock: number;
let token: SetupToken;
let route: FlintRoute;
const now = () => clock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-setup-'));
  const master = randomBytes(32);
  accounts = openAccounts({
    workstationId: 'setup1',
    storeFile: (name) => join(dir, `${name}.db`),
    purposeKey: (p) => Buffer.from(master.map((b, i) => b ^ p.charCodeAt(i % p.length))),
  }, now); // prettier-ignore
  clock = Date.parse('2026-03-01T09:00:00Z');
  token = createSetupToken(now);
  route = createSetupRoute({ users: accounts.users, token, now });
});
afterEach(() => {
  accounts.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: unknown, address = '127.0.0.1') => route.handle({ method: 'POST', path: ['setup'], query: new URLSearchParams(), body, address });
const get = () => route.handle({ method: 'GET', path: ['setup'], query: new URLSearchParams() });

async function refusal(p: Promise<FlintApiResponse>): Promise<{ status: number; text: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FhirError) return { status: e.status, text: e.outcome.issue?.[0]?.diagnostics ?? '' };
    throw e;
  }
  throw new Error('not refused');
}

describe('first-run setup', () => {
  it('makes a 43-character token and creates one admin with it, once', async () => {
    expect(token.token).toMatch(/^[\w-]{43}$/);
    expect(route.isPublic?.('GET', ['setup'])).toBe(true);
    expect(route.isPublic?.('POST', ['setup'])).toBe(true);
    expect(route.isPublic?.('DELETE', ['setup'])).toBe(false);
    expect(await get()).toEqual({ status: 200, body: { needed: true } });
    expect(await post({ token: token.token, username: 'Ada', password: 'ada password 1' })).toEqual({ status: 201, body: { username: 'Ada' } });
    const ada = accounts.users.byName('ada')!;
    expect(ada.roles).toEqual(['admin']);
    expect((await accounts.users.login('ada', 'ada password 1')).ok).toBe(true);
    expect(await get()).toEqual({ status: 200, body: { needed: false } });
    expect((await refusal(post({ token: token.token, username: 'eve', password: 'eve password 1' }))).status).toBe(409);
    expect(token.matches(token.token)).toBe(false);
  });

  it('refuses a wrong, expired or used token with one message, and bad input with the rule', async () => {
    const wrong = await refusal(post({ token: 'x'.repeat(43), username: 'ada', password: 'ada password 1' }));
    expect(wrong.status).toBe(403);
    expect((await refusal(post({ username: 'ada', password: 'ada password 1' }))).text).toBe(wrong.text);
    expect((await refusal(post({ token: 7, username: 'ada', password: 'ada password 1' }))).text).toBe(wrong.text);
    expect((await refusal(post('not an object'))).status).toBe(400);
    const short = await refusal(post({ token: token.token, username: 'ada', password: 'short' }));
    expect(short).toEqual({ status: 400, text: 'A password needs at least 10 characters' });
    expect((await refusal(post({ token: token.token, username: '-x', password: 'ada password 1' }))).text).toMatch(/^A username is/);
    expect((await refusal(post({ token: token.token, username: 'ada' }))).status).toBe(400);
    expect(accounts.users.count()).toBe(0); // nothing changed, and the token still works
    clock += SETUP_TOKEN_TTL_MS;
    expect(await refusal(post({ token: token.token, username: 'ada', password: 'ada password 1' }))).toEqual(wrong);
    expect(accounts.users.count()).toBe(0);
  });

  it('without a token (users existed at start) nothing can be set up', async () => {
    const none = createSetupRoute({ users: accounts.users, token: undefined, now });
    await expect(none.handle({ method: 'POST', path: ['setup'], query: new URLSearchParams(), body: { token: token.token, username: 'a1', password: 'a1 password 1' } })).rejects.toMatchObject({ status: 403 });
  });

  it('limits wrong tokens to 10, then one a minute; right tokens do not count', async () => {
    for (let i = 0; i < 3; i++) expect((await refusal(post({ token: token.token, username: '-bad' }))).status).toBe(400);
    for (let i = 0; i < 10; i++) expect((await refusal(post({ token: `guess${i}`, username: 'a', password: 'p' }))).status).toBe(403);
    expect((await refusal(post({ token: 'guess', username: 'a', password: 'p' }))).status).toBe(429);
    // Any loopback address is the same caller.
    expect((await refusal(post({ token: token.token, username: 'ada', password: 'ada password 1' }, '127.0.0.9'))).status).toBe(429);
    clock += 60_000;
    expect((await post({ token: token.token, username: 'ada', password: 'ada password 1' }, '::1')).status).toBe(201);
  });

  it('concurrent requests with the right token create exactly one admin', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => post({ token: token.token, username: `admin${i}`, password: `admin${i} password` })),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    expect(created).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as FhirError).status).toBe(409);
    expect(accounts.users.count()).toBe(1);
  });

  it('answers only /flint/setup, with GET and POST', async () => {
    await expect(route.handle({ method: 'PUT', path: ['setup'], query: new URLSearchParams() })).rejects.toMatchObject({ status: 405 });
    await expect(route.handle({ method: 'GET', path: ['setup', 'x'], query: new URLSearchParams() })).rejects.toMatchObject({ status: 404 });
  });
});
