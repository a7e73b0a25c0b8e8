import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../middleware/app-env';
import { SERVICE_TOKEN_ISSUER } from '../security/service-token';
import { forbidden, unauthorized } from './problem';

/** Who is calling: the end user a request is made for, as the gateway vouched in its service token. */
export interface Identity {
  userId: string;
  roles: string[];
}

/**
 * 401 without an identity, 403 without the role (docs/api.md's admin routes). The identity is the one
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

/**
 * For endpoints another service calls on its own account (the order saga reserving stock or
 * charging a card), which an operator may also call by hand: passes when the verified service
 * token was signed by one of `issuers`, or when the end user it vouches for has `role`.
 * 401 without either kind of caller, 403 with the wrong one.
 */
export const requireCaller = (allowed: { issuers?: string[]; role?: string }): MiddlewareHandler<AppEnv> =>
  async function requireCaller(c, next) {
    const issuer = c.get('caller')?.issuer;
    if (issuer && allowed.issuers?.includes(issuer)) return next();
    const identity = c.get('identity');
    if (allowed.role && identity?.roles.includes(allowed.role)) return next();
    // An anonymous call through the gateway lacks a user (401); another service lacks the right (403).
    if (!identity && (!issuer || issuer === SERVICE_TOKEN_ISSUER)) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
    throw forbidden(allowed.role ? `The ${allowed.role} role or a trusted service is required.` : 'A trusted service is required.');
  };

/** 401 without an identity: for routes any signed-in user may call (what they may see is the route's own check). */
export const requireSignedIn: MiddlewareHandler<AppEnv> = async function requireSignedIn(c, next) {
  if (!c.get('identity')) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
  await next();
};

/**
 * For the gateway's ops endpoints, which call a service with a service token carrying the ops
 * scope on no user's behalf; an admin may also call them directly. 403 otherwise, with `detail`.
 */
export const requireOps = (detail: string): MiddlewareHandler<AppEnv> =>
  async function requireOps(c, next) {
    if (c.get('caller')?.scope !== 'ops' && !c.get('identity')?.roles.includes('admin')) throw forbidden(detail);
    await next();
  };
