import { env } from 'cloudflare:workers';
import { importJWK, type JWK } from 'jose';
import { signAccessToken } from '../../scripts/access-token.mjs';

let key: Promise<CryptoKey> | undefined;

/**
 * An access token as the users service issues it (docs/api.md: ES256 with its kid, iss, aud, sub,
 * 15 minutes, roles), signed with this run's users key (vitest.config.mts), so gateway tests can
 * call as any user without logging in first. The login flow itself is tested end to end too.
 */
export async function accessToken(userId: string, roles: string[] = ['customer']): Promise<string> {
  const jwk = JSON.parse(env.TEST_ACCESS_TOKEN_PRIVATE_JWK) as JWK;
  key ??= importJWK(jwk, 'ES256') as Promise<CryptoKey>;
  return signAccessToken(await key, jwk.kid ?? '', userId, roles);
}

/** `Authorization` for a user with these roles. */
export const bearerFor = async (userId: string, ...roles: string[]) => ({ authorization: `Bearer ${await accessToken(userId, roles)}` });
