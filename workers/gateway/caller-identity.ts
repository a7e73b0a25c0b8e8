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
  const header = c.req.header('authorization');
  if (!adminToken || !header?.startsWith('Bearer ')) return null;
  return (await secretsEqual(header.slice('Bearer '.length), adminToken)) ? { userId: 'operator', roles: ['admin'] } : null;
}
