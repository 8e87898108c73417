/**
 * OpenID Connect id tokens, signed RS256 (the algorithm every OIDC client accepts) with
 * a key pair generated when the server starts and published at /auth/jwks. The key
 * lives in memory only: an id token is checked by the app when it arrives, so one that
 * outlives a restart has already served its purpose.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const ID_TOKEN_TTL_S = 3600;

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export class IdTokens {
  private readonly keys: Promise<KeyPair>;

  constructor(private readonly now: () => number) {
    this.keys = makeKeys();
    // Failure surfaces on first use; do not let it become an unhandled rejection first.
    this.keys.catch(() => undefined);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [(await this.keys).publicJwk] };
  }

  async sign(claims: { iss: string; aud: string; sub: string; fhirUser?: string }): Promise<string> {
    const { privateKey, publicJwk } = await this.keys;
    const iat = Math.floor(this.now() / 1000);
    const payload: Record<string, unknown> = {};
    if (claims.fhirUser) payload.fhirUser = claims.fhirUser;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: publicJwk.kid! })
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ID_TOKEN_TTL_S)
      .sign(privateKey);
  }
}

async function makeKeys(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const publicJwk: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
  return { privateKey, publicJwk };
}
