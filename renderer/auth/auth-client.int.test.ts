/**
 * The AuthClient's desktop side against a real `flint serve`: a session resumed from what
 * the shell kept (refreshed, and the rotated token handed back), a kept session the core
 * reports locked (the lock screen, then the password), one that is over (sign in again),
 * the shell's lock (the core told once, or by the page when a refresh crossed it), and
 * sign-out (the shell forgets). The shell is a test double (Electron cannot run here);
 * the core, its tokens and its answers are real.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KeptSession } from '../../shared/desktop-api';
import { newPkce, postForm, SmartFlow } from '../../test/support/smart-http';
import { addUser } from '../../test/support/ui';
import { removeDir, startWorkstation, type RunningWorkstation } from '../../test/support/workstation';
import { ApiError } from '../api/errors';
import { AuthClient, CLIENT_ID, SCOPE, type SessionKeeper } from './auth-client';

const USER = 'kim';
const PASSWORD = 'kim keeps 12 kettles';

let ws: RunningWorkstation;
let origin: string;
/** The relative URLs the AuthClient fetched, in order. */
const asked: string[] = [];

beforeAll(async () => {
  ws = await startWorkstation();
  origin = new URL(ws.baseUrl).origin;
  await addUser(ws.dataDir, USER, PASSWORD, ['writer']);
  // A page's fetch resolves '/auth/token' against its origin; Node's needs the origin
  // spelled out. The requests themselves go to the real core unchanged.
  const nodeFetch = globalThis.fetch;
  vi.stubGlobal('fetch', (input: string | URL, init?: RequestInit) => {
    if (typeof input === 'string' && input.startsWith('/')) asked.push(input);
    return nodeFetch(new URL(String(input), origin), init);
  });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  await ws?.stop();
  if (ws) removeDir(ws.dataDir);
});

/** The shell's memory as the preload's functions reach it. `confirm: false`: keepSession never answers (IPC in flight). */
function shell(initial: string | null, confirm = true) {
  const s = {
    session: initial ? ({ refreshToken: initial } as KeptSession) : null,
    handed: [] as string[],
    ended: 0,
    resumeSession: () => Promise.resolve(s.session),
    keepSession: (k: KeptSession) => {
      s.handed.push(k.refreshToken);
      if (!confirm) return new Promise<void>(() => undefined);
      s.session = { ...k };
      return Promise.resolve();
    },
    endSession: () => {
      s.session = null;
      s.ended++;
      return Promise.resolve();
    },
    /** What main/shell does on lock-screen/suspend: POST /auth/lock with the kept token. */
    lockCore: () => postForm(`${origin}/auth/lock`, { client_id: CLIENT_ID, refresh_token: s.session!.refreshToken }),
  };
  return s satisfies SessionKeeper;
}

/** A sign-in of the UI client over plain HTTP (what the sign-in page does); its refresh token. */
async function signedInRefreshToken(): Promise<string> {
  const flow = new SmartFlow({ origin, clientId: CLIENT_ID, redirectUri: `${origin}/callback`, scope: SCOPE });
  const pkce = newPkce();
  const back = await flow.login(await flow.loginPage(pkce), USER, PASSWORD);
  const code = new URL(back.headers.get('location') ?? '', origin).searchParams.get('code');
  expect(code, `no code (${back.status})`).toBeTruthy();
  const t = await flow.exchange(code!, pkce.verifier);
  expect(t.status).toBe(200);
  return t.body.refresh_token as string;
}

const refreshWith = (token: string) => new SmartFlow({ origin, clientId: CLIENT_ID, redirectUri: `${origin}/callback`, scope: SCOPE }).refresh(token);

/** /flint/session with an access token: 200 while the session is unlocked. */
const sessionStatus = async (access: string) => (await fetch(`${origin}/flint/session`, { headers: { Authorization: `Bearer ${access}` } })).status;

const pageLocks = () => asked.filter((p) => p === '/auth/lock').length;

describe('the AuthClient in the desktop app', () => {
  it('without a keeper (a plain browser) starts signed out and has nothing to resume', async () => {
    const auth = new AuthClient();
    expect(auth.current).toBe('signed-out');
    await auth.resume();
    expect(auth.current).toBe('signed-out');
  });

  it('with no kept session, goes from resuming to signed out', async () => {
    const s = shell(null);
    const auth = new AuthClient(s);
    expect(auth.current).toBe('resuming');
    await auth.resume();
    expect(auth.current).toBe('signed-out');
    expect(s.ended).toBe(0);
  });

  it('resumes a kept session: refreshed, signed in, and every rotated token handed back', async () => {
    const first = await signedInRefreshToken();
    const s = shell(first);
    const auth = new AuthClient(s);
    await auth.resume();
    expect(auth.current).toBe('signed-in');
    expect(s.handed).toHaveLength(1);
    expect(s.session?.refreshToken).toBe(s.handed[0]);
    expect(s.handed[0]).not.toBe(first);
    expect(await sessionStatus(await auth.token())).toBe(200);
    // The token the shell kept before is spent.
    expect((await refreshWith(first)).status).toBe(400);
    // A later renewal rotates again, and the shell gets that one too.
    await expect(auth.renew()).resolves.toBe(true);
    expect(s.handed).toHaveLength(2);
    expect(s.session?.refreshToken).toBe(s.handed[1]);
    // A second resume() is a no-op: one refresh per page.
    await auth.resume();
    expect(s.handed).toHaveLength(2);
  });

  it('opens a session the core reports locked on the lock screen; the password unlocks it', async () => {
    const s = shell(await signedInRefreshToken());
    expect((await s.lockCore()).status).toBe(200);
    // What the core answers for a locked session's refresh (and leaves the token usable).
    const refused = await refreshWith(s.session!.refreshToken);
    expect(refused).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/session is locked/) } });

    const auth = new AuthClient(s);
    await auth.resume();
    expect(auth.current).toBe('locked');
    expect(auth.lockReason).toBe('found-locked');
    expect(s.ended).toBe(0);
    await expect(auth.token()).rejects.toMatchObject({ status: 401 });

    const wrong = await auth.unlock('not the password').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect((wrong as ApiError).status).toBe(400);
    expect(auth.current).toBe('locked');

    const before = s.session!.refreshToken;
    await auth.unlock(PASSWORD);
    expect(auth.current).toBe('signed-in');
    expect(s.session!.refreshToken).not.toBe(before);
    expect(await sessionStatus(await auth.token())).toBe(200);
  });

  it("the user's name goes to the shell with each token once known, and comes back with a locked session", async () => {
    const s = shell(await signedInRefreshToken());
    const auth = new AuthClient(s);
    await auth.resume();
    expect(auth.username).toBeUndefined();
    expect(s.session?.username).toBeUndefined();
    // /flint/session answered: the shell gets the name with the token it already holds.
    auth.rememberUser(USER);
    await vi.waitFor(() => expect(s.session).toEqual({ refreshToken: s.handed[0], username: USER }));
    expect(s.handed).toEqual([s.handed[0], s.handed[0]]);
    auth.rememberUser(USER); // the same name again: nothing to send
    expect(s.handed).toHaveLength(2);
    // A rotated token goes with the name.
    await expect(auth.renew()).resolves.toBe(true);
    await vi.waitFor(() => expect(s.session).toEqual({ refreshToken: s.handed[2], username: USER }));

    // The shell locks; a new window opens on the locked session and knows whose it is.
    expect((await s.lockCore()).status).toBe(200);
    const reopened = new AuthClient(s);
    await reopened.resume();
    expect(reopened.current).toBe('locked');
    expect(reopened.username).toBe(USER);
    await reopened.signOut();
    expect(reopened.username).toBeUndefined();
    expect(s.session).toBeNull();
  });

  it('signs out, and the shell forgets, when the kept session is over', async () => {
    const token = await signedInRefreshToken();
    expect((await postForm(`${origin}/auth/revoke`, { token, client_id: CLIENT_ID })).status).toBe(200);
    const s = shell(token);
    const auth = new AuthClient(s);
    await auth.resume();
    expect(auth.current).toBe('signed-out');
    expect(s.ended).toBe(1);
    expect(s.session).toBeNull();
  });

  it('on the shell’s lock: locked at once, and the core is not told a second time', async () => {
    const s = shell(await signedInRefreshToken());
    const auth = new AuthClient(s);
    await auth.resume();
    const access = await auth.token();
    expect((await s.lockCore()).status).toBe(200);
    const locksBefore = pageLocks();
    await auth.lockedByShell('lock-screen');
    expect(auth.current).toBe('locked');
    expect(auth.lockReason).toBe('lock-screen');
    expect(pageLocks()).toBe(locksBefore);
    expect(await sessionStatus(access)).toBe(401);
    await auth.unlock(PASSWORD);
    expect(await sessionStatus(await auth.token())).toBe(200);
  });

  it('on the shell’s lock after a refresh it has not heard of: the page locks the core itself', async () => {
    // The shell holds the first token; the page's refresh replaced it, and keepSession is
    // still on its way, so the shell's lock with the first token is refused.
    const s = shell(await signedInRefreshToken(), false);
    const auth = new AuthClient(s);
    await auth.resume();
    const access = await auth.token();
    expect((await s.lockCore()).status).toBe(400);
    expect(await sessionStatus(access)).toBe(200);
    const locksBefore = pageLocks();
    await auth.lockedByShell('suspend');
    expect(auth.current).toBe('locked');
    expect(pageLocks()).toBe(locksBefore + 1);
    expect(await sessionStatus(access)).toBe(401);
  });

  it('a lock while resuming: the lock screen, whether the shell locked before or after the refresh', async () => {
    // Before: the page's refresh is refused as locked, and the lock screen says why.
    const before = shell(await signedInRefreshToken());
    expect((await before.lockCore()).status).toBe(200);
    const a = new AuthClient(before);
    const resumed = a.resume();
    await a.lockedByShell('suspend');
    await resumed;
    expect(a.current).toBe('locked');
    expect(a.lockReason).toBe('suspend');

    // After (the shell's call used the token the refresh had just spent): the page locks the core.
    const after = shell(await signedInRefreshToken());
    const b = new AuthClient(after);
    const locksBefore = pageLocks();
    const resuming = b.resume();
    await b.lockedByShell('lock-screen');
    await resuming;
    expect(b.current).toBe('locked');
    expect(b.lockReason).toBe('lock-screen');
    expect(pageLocks()).toBe(locksBefore + 1);
    const refused = await refreshWith(after.session!.refreshToken);
    expect(refused.body.error_description).toMatch(/session is locked/);
  });

  it('signs out: the shell forgets the session and the core revokes its token', async () => {
    const s = shell(await signedInRefreshToken());
    const auth = new AuthClient(s);
    await auth.resume();
    const last = s.session!.refreshToken;
    await auth.signOut();
    expect(auth.current).toBe('signed-out');
    expect(s.ended).toBe(1);
    expect(s.session).toBeNull();
    expect((await refreshWith(last)).status).toBe(400);
  });
});
