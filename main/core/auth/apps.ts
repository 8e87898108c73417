/**
 * The app registry: SMART clients admins register (`flint app add`). Public clients
 * (browser and desktop apps) authenticate with PKCE alone and must use registered
 * redirect URIs, compared exactly; backend services register a JWKS and authenticate
 * with a signed assertion (private_key_jwt). `origins` are the only CORS origins served.
 * Flint's own client ids (`flint-ui`, `flint-cli`: ui-client.ts) are not the registry's:
 * they cannot be registered or revoked, and a row left with such an id counts for nothing.
 */
import { randomBytes } from 'node:crypto';
import type { AuthDb } from './auth-db';
import { RESERVED_CLIENT_IDS } from './ui-client';
import { AccountError } from './users';

export interface App {
  clientId: string;
  name: string;
  redirectUris: string[];
  origins: string[];
  /** Public keys of a backend service (a JWKS document), for private_key_jwt. */
  jwks: { keys: Array<Record<string, unknown>> } | null;
  /** The most an app may be granted (space-separated SMART scopes). */
  scope: string;
  /** Backend services act with the rights of this role (their own, not a user's). */
  role: string | null;
  revoked: boolean;
}

interface AppRow {
  client_id: string;
  name: string;
  redirect_uris: string;
  origins: string;
  jwks: string | null;
  scope: string;
  role: string | null;
  revoked: number;
}

const toApp = (r: AppRow): App => ({
  clientId: r.client_id,
  name: r.name,
  redirectUris: JSON.parse(r.redirect_uris) as string[],
  origins: JSON.parse(r.origins) as string[],
  role: r.role,
  jwks: r.jwks ? (JSON.parse(r.jwks) as App['jwks']) : null,
  scope: r.scope,
  revoked: r.revoked === 1,
});

export interface NewApp {
  name: string;
  redirectUris?: string[];
  jwks?: App['jwks'];
  scope: string;
  role?: string;
  clientId?: string;
}

export class AppRegistry {
  constructor(
    private readonly db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {}

  add(input: NewApp): App {
    const redirectUris = input.redirectUris ?? [];
    for (const u of redirectUris) {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        throw new AccountError(`not an absolute URL: ${u}`);
      }
      if (url.hash) throw new AccountError('a redirect URI must not have a fragment');
      if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
        throw new AccountError('plain http redirect URIs are allowed on loopback only');
      }
    }
    if (input.jwks && !Array.isArray(input.jwks.keys)) throw new AccountError('a JWKS has a keys array');
    if (redirectUris.length === 0 && !input.jwks) throw new AccountError('an app needs redirect URIs (user apps) or a JWKS (backend services)');
    if (input.jwks && !input.role) throw new AccountError('a backend service needs the role it acts with');
    const clientId = input.clientId ?? randomBytes(12).toString('base64url');
    if (!/^[A-Za-z0-9._~-]{1,64}$/.test(clientId)) throw new AccountError('a client id is 1-64 of A-Z a-z 0-9 . _ ~ -');
    if (RESERVED_CLIENT_IDS.has(clientId)) throw new AccountError(`${clientId} is Flint's own client id and cannot be registered`);
    const origins = [...new Set(redirectUris.map((u) => new URL(u).origin))];
    try {
      this.db.run(
        'INSERT INTO app (client_id, name, redirect_uris, origins, jwks, scope, role, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        clientId, input.name, JSON.stringify(redirectUris), JSON.stringify(origins),
        input.jwks ? JSON.stringify(input.jwks) : null, input.scope, input.role ?? null, this.now(),
      ); // prettier-ignore
    } catch (e) {
      if (/UNIQUE|PRIMARYKEY/.test(String((e as { code?: string }).code ?? e))) throw new AccountError('that client id is taken');
      throw e;
    }
    return this.get(clientId)!;
  }

  get(clientId: string): App | undefined {
    if (RESERVED_CLIENT_IDS.has(clientId)) return undefined;
    const r = this.db.get<AppRow>('SELECT * FROM app WHERE client_id = ?', clientId);
    return r ? toApp(r) : undefined;
  }

  /** A registered, not revoked app. */
  active(clientId: string): App | undefined {
    const app = this.get(clientId);
    return app && !app.revoked ? app : undefined;
  }

  list(): App[] {
    return this.db
      .all<AppRow>('SELECT * FROM app ORDER BY name, client_id')
      .filter((r) => !RESERVED_CLIENT_IDS.has(r.client_id))
      .map(toApp);
  }

  /** Revokes the app and every refresh token it holds; its access tokens stop at their next use. */
  revoke(clientId: string): void {
    if (RESERVED_CLIENT_IDS.has(clientId)) throw new AccountError(`${clientId} is Flint's own client and cannot be revoked`);
    this.db.atomically(() => {
      if (this.db.run('UPDATE app SET revoked = 1 WHERE client_id = ?', clientId) === 0) throw new AccountError('no such app');
      this.db.run('UPDATE refresh_token SET revoked = 1 WHERE client_id = ?', clientId);
    });
  }

  /** Every origin of every active app: the CORS allow-list. */
  origins(): Set<string> {
    return new Set(this.list().filter((a) => !a.revoked).flatMap((a) => a.origins));
  }
}
