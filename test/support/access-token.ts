import { env } from 'cloudflare:workers';
import { importJWK, SignJWT, type JWK } from 'jose';

let key: Promise<CryptoKey> | undefined;

/**
 * An access token as the users service issues it (API.md: ES256 with its kid, iss, aud, sub,
 * 15 minutes, roles), signed with this run's users key (vitest.config.mts), so gateway tests can
 * call as any user without logging in first. The login flow itself is tested end to end too.
 */
export async function accessToken(userId: string, roles: string[] = ['customer']): Promise<string> {
  const jwk = JSON.parse(env.TEST_ACCESS_TOKEN_PRIVATE_JWK) as JWK;
  key ??= importJWK(jwk, 'ES256') as Promise<CryptoKey>;
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid ?? '', typ: 'JWT' })
    .setIssuer('stratus-users')
    .setAudience('stratus')
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('15m')
    .setJti(crypto.randomUUID())
    .sign(await key);
}

/** `Authorization` for a user with these roles. */
export const bearerFor = async (userId: string, ...roles: string[]) => ({ authorization: `Bearer ${await accessToken(userId, roles)}` });
