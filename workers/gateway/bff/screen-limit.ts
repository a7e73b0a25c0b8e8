import type { Context } from 'hono';
import type { Identity } from '../../../shared/http/identity';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { RateLimitPolicy } from '../../../shared/ratelimit/policy';
import { callerIdentity } from '../auth/caller-identity';
import type { GatewayBindings } from '../env';
import { enforceLimit, rateLimitKey } from '../traffic/rate-limit';

/**
 * The BFF screens' rate limit: per caller (user, else address, as the API routes), counted in
 * upstream calls rather than screens, since a screen fans out: an anonymous home screen makes one
 * call (the featured products), a signed-in one three (products, profile, recent orders). 100
 * calls per 10 s is the catalog route's own limit, so the BFF is no way around it: 100 anonymous
 * screens, or 33 signed-in ones, per 10 s.
 */
export const BFF_RATE_LIMIT: RateLimitPolicy = { algorithm: 'sliding-window', limit: 100, windowMs: 10_000 };

/** Upstream calls one home screen makes for this caller. */
export const homeScreenCost = (identity: Identity | null): number => (identity ? 3 : 1);

type Ctx = Context<AppEnv<GatewayBindings>>;

const limit = (c: Ctx, identity: Identity | null, cost: number) =>
  enforceLimit(c, { name: 'bff', label: '/bff/*', what: '/bff', policy: BFF_RATE_LIMIT, key: rateLimitKey(c, identity), cost });

/**
 * Who calls a screen, counted against the BFF limit before any part is fetched: a refused caller
 * gets 429 and the services see nothing. A token that fails verification is counted by address
 * (one unit) before its 401, so a flood of bad tokens meets the limit too.
 */
export async function screenCaller(c: Ctx, cost: (identity: Identity | null) => number): Promise<Identity | null> {
  let identity: Identity | null;
  try {
    identity = await callerIdentity(c);
  } catch (error) {
    await limit(c, null, 1);
    throw error;
  }
  await limit(c, identity, cost(identity));
  return identity;
}
