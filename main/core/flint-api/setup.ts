/**
 * First run: creating the first administrator from the UI (docs/access-control.md, "The
 * UI's sign-in, lock and first run"). When a workstation starts with no user, it makes a
 * one-time setup token and prints `<origin>/setup#token=<token>` (the fragment never
 * reaches a server or a Referer; the UI reads it). Public routes, no bearer token:
 *
 *   GET  /flint/setup                                 {"needed": boolean}: no user yet
 *   POST /flint/setup {"token","username","password"}  201 {"username"}: an admin created
 *        409 a user exists | 403 wrong, used or expired token | 400 username/password rules
 *        429 after 10 wrong tokens (then one a minute)
 *
 * The token (32 random bytes) lives in memory only, as a SHA-256, compared in constant
 * time; it is good for an hour and for one administrator, and a restart makes a new one.
 * The user is added only if there is still none, in the INSERT itself, so concurrent
 * requests (or a `flint user add` beside them) never make two.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest, conflict, forbidden, methodNotAllowed, notFound, tooManyRequests } from '../../../shared/fhir/outcome';
import { AccountError, NotFirstUserError, type UserService } from '../auth/users';
import { clientKey, RateLimiter } from '../http/rate-limit';
import type { FlintApiRequest, FlintRoute } from './types';

export const SETUP_TOKEN_TTL_MS = 3600_000;
/** Wrong tokens: 10 at once, then one a minute, per client address (all of loopback is one). */
export const SETUP_ATTEMPTS = { burst: 10, perSecond: 1 / 60 };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface SetupToken {
  /** The token itself: shown once, in the setup URL. */
  readonly token: string;
  /** Whether `given` is the token, unused and unexpired (constant time). */
  matches(given: string): boolean;
  /** Used: it matches nothing from now on. */
  spend(): void;
}

export function createSetupToken(now: () => number = Date.now): SetupToken {
  const token = randomBytes(32).toString('base64url');
  const hash = digest(token);
  const expires = now() + SETUP_TOKEN_TTL_MS;
  let spent = false;
  return {
    token,
    matches(given) {
      const same = timingSafeEqual(digest(given), hash);
      return same && !spent && now() < expires;
    },
    spend() {
      spent = true;
    },
  };
}

export interface SetupRouteOptions {
  /** The accounts' users (audited): the same service `flint user add` uses. */
  users: Pick<UserService, 'add' | 'count'>;
  /** Undefined when the workstation started with users (no setup offered). */
  token: SetupToken | undefined;
  now?: () => number;
}

const WRONG_TOKEN = 'This setup link is not valid: it is wrong, was already used, or has expired. Restart Flint for a new one.';
const EXAMPLE = '{"token": "...", "username": "...", "password": "..."}';

export function createSetupRoute(o: SetupRouteOptions): FlintRoute {
  const attempts = new RateLimiter(SETUP_ATTEMPTS, o.now);
  const isSetup = (path: readonly string[]) => path.length === 1 && path[0] === 'setup';
  return {
    prefix: 'setup',
    isPublic: (method, path) => isSetup(path) && ['GET', 'HEAD', 'POST'].includes(method),
    async handle(req: FlintApiRequest) {
      if (!isSetup(req.path)) throw notFound('Not found under /flint/setup');
      if (req.method === 'GET' || req.method === 'HEAD') return { status: 200, body: { needed: o.users.count() === 0 } };
      if (req.method !== 'POST') throw methodNotAllowed('Allowed here: GET, POST');
      const body = req.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Send a JSON object: ${EXAMPLE}`);
      const { token, username, password } = body as Record<string, unknown>;
      if (o.users.count() > 0) throw conflict('This workstation already has user accounts: sign in instead');
      // Every attempt takes from the bucket; a right token gives it back, so only wrong ones count.
      const who = clientKey(req.address);
      if (attempts.take(who) > 0) throw tooManyRequests('Too many wrong setup tokens; wait a minute and try again');
      if (typeof token !== 'string' || !o.token?.matches(token)) throw forbidden(WRONG_TOKEN);
      attempts.refund(who);
      if (typeof username !== 'string' || typeof password !== 'string') throw badRequest(`"username" and "password" are required strings: ${EXAMPLE}`);
      try {
        const user = await o.users.add({ username, password, roles: ['admin'] }, { onlyIfFirst: true });
        o.token.spend();
        return { status: 201, body: { username: user.username } };
      } catch (e) {
        if (e instanceof NotFirstUserError) throw conflict('This workstation already has user accounts: sign in instead');
        if (e instanceof AccountError) throw badRequest(`${e.message[0]!.toUpperCase()}${e.message.slice(1)}`);
        throw e;
      }
    },
  };
}
