/**
 * Registering an app, as `flint app add` and `POST /flint/admin/apps` both do: the checks
 * beyond the registry's own (a known role, public keys only), then the registry.
 */
import type { Accounts } from './accounts';
import type { App, NewApp } from './apps';
import { AccountError } from './users';

/** JWK members of private or symmetric keys (RFC 7518 6.2.2, 6.3.2, 6.4): never registered. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function registerApp(accounts: Pick<Accounts, 'apps' | 'users'>, input: NewApp): App {
  if (!input.name || !input.scope) throw new AccountError('an app needs a name and a scope');
  if (input.role && !accounts.users.roles().some((r) => r.name === input.role)) throw new AccountError(`unknown role ${input.role}`);
  if (input.jwks) checkPublicJwks(input.jwks);
  return accounts.apps.add(input);
}

function checkPublicJwks(jwks: NonNullable<App['jwks']>): void {
  if (!jwks || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) throw new AccountError('a JWKS has a keys array');
  for (const key of jwks.keys) {
    if (!key || typeof key !== 'object' || Array.isArray(key) || typeof key['kty'] !== 'string') throw new AccountError('every key of a JWKS is a JSON Web Key with a kty');
    const secret = PRIVATE_MEMBERS.find((m) => m in key);
    if (secret) throw new AccountError(`the JWKS holds a private or secret key (member "${secret}"): register the public keys only`);
  }
}

/** A JWKS as shown to administrators: the public members only (defence in depth). */
export function publicJwks(jwks: NonNullable<App['jwks']>): NonNullable<App['jwks']> {
  return {
    keys: jwks.keys.map((key) => Object.fromEntries(Object.entries(key).filter(([k]) => !(PRIVATE_MEMBERS as readonly string[]).includes(k)))),
  };
}
