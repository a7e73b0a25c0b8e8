import type { Context } from 'hono';
import type { Identity } from '../../../shared/http/identity';
import { unauthorized } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { secretsEqual } from '../../../shared/security/constant-time';
import { AccessTokenError, verifyAccessToken } from './access-tokens';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';

/** `Bearer <token>`: the scheme name is case-insensitive (RFC 9110 §11.1), the token is not. */
const bearerToken = (c: Context<AppEnv<GatewayBindings>>): string | null | undefined => {
  const header = c.req.header('authorization');
  if (header === undefined) return undefined;
  return /^bearer +(\S+)\s*$/i.exec(header)?.[1] ?? null;
};

/** A 401 as RFC 6750 §3 words it, so clients can tell an expired token from a missing one. */
const invalidToken = (description: string) =>
  unauthorized(description, { 'www-authenticate': `Bearer realm="stratus", error="invalid_token", error_description="${description.replace(/"/g, "'")}"` });

/**
 * Whether the request carries `Authorization: Bearer <ADMIN_TOKEN>`: the operator, who may use
 * `/_ops` (docs/api.md), and only that.
 */
export async function isOperator(c: Context<AppEnv<GatewayBindings>>): Promise<boolean> {
  const adminToken = gatewayConfig(c.env).ADMIN_TOKEN;
  const token = bearerToken(c);
  if (!adminToken || !token) return false;
  return secretsEqual(token, adminToken);
}

/**
 * Who is calling an API route, from their access token, verified here at the edge
 * (access-tokens.ts). No Authorization header: anonymous (null). A header that is not a valid
 * token: 401 with `WWW-Authenticate`, whatever the route's policy, so a client never mistakes a
 * broken token for being anonymous.
 */
export async function callerIdentity(c: Context<AppEnv<GatewayBindings>>): Promise<Identity | null> {
  const token = bearerToken(c);
  if (token === undefined) return null;
  if (token === null) throw invalidToken('The Authorization header must be "Bearer <access token>".');
  try {
    return await verifyAccessToken(c.env, token, c.get('requestId'));
  } catch (error) {
    if (error instanceof AccessTokenError) {
      c.get('log').info('access token refused', { reason: error.message });
      throw invalidToken(error.message);
    }
    throw error;
  }
}
