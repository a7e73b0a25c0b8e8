import type { MiddlewareHandler } from 'hono';
import { forbidden, unauthorized } from './problem';

/**
 * Who is calling, as the gateway tells a service.
 *
 * PLACEHOLDER until the auth issue lands: the gateway sets these headers itself (after deleting
 * any a client sent) and services trust them because only the gateway can reach them through a
 * binding. The auth issue replaces them with a short-lived gateway-signed service token that
 * every service verifies (DESIGN.md decision 1); `requireRole` keeps its signature.
 */
export const IDENTITY_HEADERS = {
  userId: 'x-stratus-user-id',
  roles: 'x-stratus-user-roles',
} as const;

export interface Identity {
  userId: string;
  roles: string[];
}

export function identityFrom(headers: Headers): Identity | null {
  const userId = headers.get(IDENTITY_HEADERS.userId);
  if (!userId) return null;
  const roles = (headers.get(IDENTITY_HEADERS.roles) ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  return { userId, roles };
}

/** 401 without an identity, 403 without the role (API.md's admin routes). */
export const requireRole = (role: string): MiddlewareHandler =>
  async function requireRole(c, next) {
    const identity = identityFrom(c.req.raw.headers);
    if (!identity) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
    if (!identity.roles.includes(role)) throw forbidden(`The ${role} role is required.`);
    await next();
  };
