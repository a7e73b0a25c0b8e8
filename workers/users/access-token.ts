import { importJWK, SignJWT } from 'jose';
import type { UsersConfig } from './config';

/** Access tokens live 15 minutes (docs/api.md); clients refresh them with their refresh token. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const ACCESS_TOKEN_ALGORITHM = 'ES256';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Imported keys, per isolate, by the key itself (not by env object, which a runtime may hand out
 * afresh): importing costs more than signing, so each key is imported once.
 */
const keys = new Map<string, Promise<SigningKey>>();

export function signingKey(config: UsersConfig): Promise<SigningKey> {
  const cacheKey = JSON.stringify(config.signing.privateJwk);
  let key = keys.get(cacheKey);
  if (!key) {
    key = importJWK(config.signing.privateJwk, ACCESS_TOKEN_ALGORITHM).catch((error: unknown) => {
      keys.delete(cacheKey); // a failed import is retried by the next request, not cached
      throw error;
    });
    keys.set(cacheKey, key);
  }
  return key;
}

export interface AccessTokenSubject {
  id: string;
  roles: string[];
}

/**
 * An ES256 JWT for `subject`: header `kid` names the key in the JWKS; claims `iss`, `aud`, `sub`,
 * `iat`, `nbf`, `exp` (iat + 15 min), a unique `jti`, and `roles`.
 */
export async function issueAccessToken(config: UsersConfig, subject: AccessTokenSubject, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ roles: subject.roles })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: config.signing.kid, typ: 'JWT' })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(subject.id)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(config));
}
