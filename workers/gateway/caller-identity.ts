import type { Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import type { AppEnv } from '../../shared/middleware/app-env';
import { secretsEqual } from '../../shared/security/constant-time';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';

/**
 * Whether the request carries `Authorization: Bearer <ADMIN_TOKEN>`: the operator, who may use
 * `/_ops` (API.md). The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
 */
export async function isOperator(c: Context<AppEnv<GatewayBindings>>): Promise<boolean> {
  const adminToken = gatewayConfig(c.env).ADMIN_TOKEN;
  const match = /^bearer +(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  if (!adminToken || !match?.[1]) return false;
  return secretsEqual(match[1], adminToken);
}

/**
 * PLACEHOLDER until the auth issue lands: the only identity the gateway knows is the operator's,
 * which acts as an admin so the services' admin routes can be exercised. The auth issue replaces
 * this with JWT verification at the edge (jose + JWKS).
 */
export async function callerIdentity(c: Context<AppEnv<GatewayBindings>>): Promise<Identity | null> {
  return (await isOperator(c)) ? { userId: 'operator', roles: ['admin'] } : null;
}
