import type { Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import type { AppEnv } from '../../shared/middleware/app-env';
import { secretsEqual } from '../../shared/security/constant-time';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';

/**
 * PLACEHOLDER until the auth issue lands: the only identity the gateway knows is the operator's,
 * `Authorization: Bearer <ADMIN_TOKEN>`, which acts as an admin so the catalog's admin routes can
 * be exercised. The auth issue replaces this with JWT verification at the edge (jose + JWKS).
 */
export async function callerIdentity(c: Context<AppEnv<GatewayBindings>>): Promise<Identity | null> {
  const adminToken = gatewayConfig(c.env).ADMIN_TOKEN;
  // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
  const match = /^bearer +(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  if (!adminToken || !match?.[1]) return null;
  return (await secretsEqual(match[1], adminToken)) ? { userId: 'operator', roles: ['admin'] } : null;
}
