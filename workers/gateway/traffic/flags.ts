import type { Context } from 'hono';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { callerIdentity } from '../auth/caller-identity';
import type { GatewayBindings } from '../env';
import { currentFlags } from './live-flags';
import { stickyKey } from './route-versions';

/**
 * `GET /api/flags`: the feature flags in force (the `FEATURE_FLAGS` defaults, with the operator's
 * run-time changes over them: live-flags.ts) as they fall for the caller, `{flags: {<key>:
 * true|false}}`, for a client to switch features on. Services see the same values in their
 * service token. Evaluated by the same stable hashing and the same sticky key as canary routing
 * (route-versions.ts): the signed-in user's id, else the `stratus_uid` cookie (set on this answer
 * if the request came without one), so a caller keeps their flags from request to request, and a
 * rollout raised from 10% to 20% only adds callers. An access token that does not verify is a
 * 401, as on every API route.
 */
export async function flagsResponse(c: Context<AppEnv<GatewayBindings>>): Promise<Response> {
  c.set('routeLabel', '/api/flags');
  const identity = await callerIdentity(c);
  const flags = (await currentFlags(c)).values(stickyKey(c, identity));
  // Per caller: no shared cache may keep it.
  return c.json({ flags }, 200, { 'cache-control': 'private, no-store' });
}
