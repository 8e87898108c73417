/**
 * Tokens. Access tokens are short-lived JWTs (HS256) signed with the data dir's `tokens`
 * key, which lives only in the OS keychain (derived from the master key): a stolen data
 * dir cannot mint or check them. Authorization codes and refresh tokens are random and
 * stored as SHA-256 hashes only. A revoked access token's id stays on a deny list until
 * it would have expired.
 */
import { createHash, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import type { AuthDb } from './auth-db';

export const ACCESS_TTL_S = 3600;
export const CODE_TTL_MS = 60_000;
export const REFRESH_TTL_MS = 30 * 24 * 3600_000;

export interface AccessClaims {
  /** User id, or `client:<client_id>` for a backend service. */
  sub: string;
  client_id: string;
  scope: string;
  patient?: string;
  fhirUser?: string;
  /** The UI session (`flint-ui` tokens only: ui-sessions.ts). */
  sid?: string;
  jti: string;
  exp: number;
  iat: number;
}

export interface Grant {
  clientId: string;
  userId: string;
  scope: string;
  patient?: string | null;
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');
const secret = () => randomBytes(32).toString('base64url');

/**
 * A refresh token of a UI session is `<session id>.<secret>`: the whole string is what is
 * hashed and stored, so the prefix cannot be altered, and rotation keeps it. Others are
 * a bare secret (no dot).
 */
export function sessionOfRefresh(token: string): string | undefined {
  const m = /^([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return m?.[1];
}

interface RefreshRow {
  client_id: string;
  user_id: string;
  scope: string;
  patient: string | null;
  expires: number;
  revoked: number;
}

/** A live refresh token: its grant, its session (UI tokens) and when it expires. */
export interface HeldRefresh {
  grant: Grant;
  session?: string;
  expires: number;
}

export class TokenService {
  /** The HMAC key imported once: handing jose raw bytes would import them on every call. */
  private readonly hmacKey: Promise<CryptoKey>;

  constructor(
    private readonly db: AuthDb,
    key: Buffer,
    /** The issuer: this workstation (`flint:<workstationId>`). */
    private readonly issuer: string,
    private readonly now: () => number = Date.now,
  ) {
    this.hmacKey = webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    this.hmacKey.catch(() => undefined); // surfaces at the first use
  }

  async issueAccess(claims: Omit<AccessClaims, 'jti' | 'exp' | 'iat'>, ttlSeconds = ACCESS_TTL_S): Promise<{ token: string; claims: AccessClaims }> {
    const iat = Math.floor(this.now() / 1000);
    const full: AccessClaims = { ...claims, jti: randomUUID(), iat, exp: iat + ttlSeconds };
    const payload: Record<string, unknown> = { client_id: full.client_id, scope: full.scope };
    if (full.patient) payload.patient = full.patient;
    if (full.fhirUser) payload.fhirUser = full.fhirUser;
    if (full.sid) payload.sid = full.sid;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setSubject(full.sub)
      .setJti(full.jti)
      .setIssuedAt(iat)
      .setExpirationTime(full.exp)
      .sign(await this.hmacKey);
    return { token, claims: full };
  }

  /** The claims of a valid, unrevoked access token, or undefined (the reason is not told apart). */
  async verifyAccess(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, await this.hmacKey, {
        issuer: this.issuer,
        algorithms: ['HS256'],
        typ: 'at+jwt',
        currentDate: new Date(this.now()),
      });
      const claims = payload as unknown as AccessClaims;
      if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.scope !== 'string') return undefined;
      if (claims.sid !== undefined && typeof claims.sid !== 'string') return undefined;
      if (this.db.get('SELECT 1 FROM revoked_token WHERE jti = ?', claims.jti)) return undefined;
      return claims;
    } catch (e) {
      if (e instanceof errors.JOSEError) return undefined;
      throw e;
    }
  }

  revokeAccess(claims: AccessClaims): void {
    this.db.run('INSERT OR IGNORE INTO revoked_token (jti, expires) VALUES (?, ?)', claims.jti, claims.exp * 1000);
  }

  /** A single-use code bound to the client, redirect URI and PKCE challenge. */
  issueCode(grant: Grant, redirectUri: string, challenge: string): string {
    const code = secret();
    this.db.run(
      'INSERT INTO auth_code (hash, client_id, user_id, redirect_uri, scope, challenge, patient, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      sha256(code), grant.clientId, grant.userId, redirectUri, grant.scope, challenge, grant.patient ?? null, this.now() + CODE_TTL_MS,
    ); // prettier-ignore
    return code;
  }

  /**
   * Redeems a code once. A second use fails and also revokes the refresh tokens issued
   * from the first (RFC 6749 10.5: a replayed code means it leaked).
   */
  redeemCode(code: string): { grant: Grant; redirectUri: string; challenge: string } | 'replayed' | undefined {
    const hash = sha256(code);
    return this.db.atomically(() => {
      const row = this.db.get<{
        client_id: string; user_id: string; redirect_uri: string; scope: string; challenge: string; patient: string | null; expires: number; used: number;
      }>('SELECT * FROM auth_code WHERE hash = ?', hash); // prettier-ignore
      if (!row) return undefined;
      if (row.used) {
        this.db.run('UPDATE refresh_token SET revoked = 1 WHERE client_id = ? AND user_id = ?', row.client_id, row.user_id);
        return 'replayed';
      }
      this.db.run('UPDATE auth_code SET used = 1 WHERE hash = ?', hash);
      if (row.expires < this.now()) return undefined;
      return {
        grant: { clientId: row.client_id, userId: row.user_id, scope: row.scope, patient: row.patient },
        redirectUri: row.redirect_uri,
        challenge: row.challenge,
      };
    });
  }

  /**
   * A refresh token for `grant`, valid REFRESH_TTL_MS unless `expires` says otherwise;
   * with `session`, one of that UI session (`<session>.<secret>`).
   */
  issueRefresh(grant: Grant, o: { session?: string; expires?: number } = {}): string {
    const token = o.session ? `${o.session}.${secret()}` : secret();
    this.db.run(
      'INSERT INTO refresh_token (hash, client_id, user_id, scope, patient, expires) VALUES (?, ?, ?, ?, ?, ?)',
      sha256(token), grant.clientId, grant.userId, grant.scope, grant.patient ?? null, o.expires ?? this.now() + REFRESH_TTL_MS,
    ); // prettier-ignore
    return token;
  }

  /** The refresh token's grant if it is live and `clientId`'s, without using it up. */
  checkRefresh(token: string, clientId: string): HeldRefresh | undefined {
    const row = this.liveRefresh(sha256(token), clientId);
    if (!row) return undefined;
    const session = sessionOfRefresh(token);
    return { grant: grantOf(row), expires: row.expires, ...(session ? { session } : {}) };
  }

  /**
   * Redeems a refresh token for `clientId` and rotates it (the old one stops working). A
   * UI session's token rotates into one of the same session that expires with it: the
   * session's 12 hours are not extended by use.
   */
  rotateRefresh(token: string, clientId: string): { grant: Grant; refresh: string } | undefined {
    const hash = sha256(token);
    return this.db.atomically(() => {
      const row = this.liveRefresh(hash, clientId);
      if (!row) return undefined;
      this.db.run('UPDATE refresh_token SET revoked = 1 WHERE hash = ?', hash);
      const grant = grantOf(row);
      const session = sessionOfRefresh(token);
      return { grant, refresh: this.issueRefresh(grant, session ? { session, expires: row.expires } : {}) };
    });
  }

  private liveRefresh(hash: string, clientId: string): RefreshRow | undefined {
    const row = this.db.get<RefreshRow>('SELECT * FROM refresh_token WHERE hash = ?', hash);
    return !row || row.revoked || row.expires < this.now() || row.client_id !== clientId ? undefined : row;
  }

  /**
   * RFC 7009: revokes a refresh token, or an access token by its id; unknown tokens are
   * fine. Says which kind it was (undefined: neither).
   */
  async revoke(token: string): Promise<'refresh' | 'access' | undefined> {
    if (this.db.run('UPDATE refresh_token SET revoked = 1 WHERE hash = ?', sha256(token)) > 0) return 'refresh';
    const claims = await this.verifyAccess(token);
    if (!claims) return undefined;
    this.revokeAccess(claims);
    return 'access';
  }

  /** A client assertion's jti may be used once (until it expires). */
  useAssertionId(jti: string, expiresMs: number): boolean {
    this.db.run('DELETE FROM used_assertion WHERE expires < ?', this.now());
    return this.db.run('INSERT OR IGNORE INTO used_assertion (jti, expires) VALUES (?, ?)', jti, expiresMs) === 1;
  }
}

const grantOf = (r: RefreshRow): Grant => ({ clientId: r.client_id, userId: r.user_id, scope: r.scope, patient: r.patient });
