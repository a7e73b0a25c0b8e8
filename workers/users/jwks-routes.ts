import { Hono } from 'hono';
import type { AppEnv } from '../../shared/middleware/app-env';
import { usersConfig } from './config';
import type { UsersBindings } from './env';

/**
 * The public keys that verify access tokens (RFC 7517): the current key first, then the earlier
 * ones in ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS. Verifiers may cache this for 5 minutes, so a
 * rotation keeps the old public key listed for at least a token's lifetime (15 minutes) plus
 * that cache age after the new key starts signing; a verifier meeting an unknown `kid` refetches.
 */
export const JWKS_PATH = '/.well-known/jwks.json';

export const jwksRoutes = new Hono<AppEnv<UsersBindings>>().get(JWKS_PATH, (c) =>
  c.json({ keys: usersConfig(c.env).publicJwks }, 200, { 'cache-control': 'public, max-age=300' }),
);
