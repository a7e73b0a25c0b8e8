import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../middleware/app-env';
import { forbidden, unauthorized } from './problem';

/** Who is calling: the end user a request is made for, as the gateway vouched in its service token. */
export interface Identity {
  userId: string;
  roles: string[];
}

/**
 * 401 without an identity, 403 without the role (API.md's admin routes). The identity is the one
 * the service-token check put on the context (shared/middleware/service-auth.ts); nothing a
 * client sends in a header can set it.
 */
export const requireRole = (role: string): MiddlewareHandler<AppEnv> =>
  async function requireRole(c, next) {
    const identity = c.get('identity');
    if (!identity) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
    if (!identity.roles.includes(role)) throw forbidden(`The ${role} role is required.`);
    await next();
  };
