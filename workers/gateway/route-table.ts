import type { Context, Hono } from 'hono';
import type { Identity } from '../../shared/http/identity';
import { forbidden, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { callerIdentity } from './auth/caller-identity';
import type { GatewayBindings } from './env';
import { forward } from './proxy';
import { routePipeline } from './route-pipeline';
import { isAnonymousPath, rewritePath, type Route } from './routes';
import { carriesTicket, isAllowedUpgrade } from './traffic/websocket-upgrade';

type Ctx = Context<AppEnv<GatewayBindings>>;

/**
 * What answers a request once it is let through: `forward` sends it upstream. The Cloudflare
 * worker puts its response cache here (cache/response-cache.ts `cached`); without one, the call
 * is simply forwarded.
 */
export type Responder = (c: Ctx, route: Route, identity: Identity | null, forward: () => Promise<Response>) => Promise<Response>;

const forwardOnly: Responder = (_c, _route, _identity, forward) => forward();

/**
 * Mounts the route table on a gateway app. A request's whole path through the gateway, top to
 * bottom, with everything route-specific taken from the route's pipeline (route-pipeline.ts,
 * resolved once per isolate and configuration):
 *
 *   labels → who calls (access token) → rate limit → auth policy → response cache → forward
 *   (proxy.ts: headers, service token, canary version, upstream guard, fallbacks)
 *
 * The same code on Cloudflare (index.ts) and on Bun and Deno (runtimes/gateway-app.ts).
 */
export function addRouteTable(app: Hono<AppEnv<GatewayBindings>>, table: readonly Route[], respond: Responder = forwardOnly): void {
  // Longest prefix first, so a more specific route (a strangler-fig carve-out) wins.
  const byPrefixLength = [...table].sort((a, b) => b.prefix.length - a.prefix.length);
  for (const route of byPrefixLength) {
    const handler = async (c: Ctx) => {
      const pipeline = routePipeline(c.env, route);
      c.set('serviceLabel', route.name);
      c.set('routeLabel', pipeline.label);
      // `none`, or a path where callers present no access token (login, refresh): who calls is not
      // asked, so a stale token a client attaches everywhere cannot lock it out of getting a new one.
      const upstreamPath = rewritePath(route, c.req.path);
      const anonymous = isAnonymousPath(route, upstreamPath);
      let identity: Identity | null;
      try {
        identity = anonymous ? null : await callerIdentity(c);
      } catch (error) {
        // A refused token is still a request on a limited route: counted by address, with the
        // route's RateLimit headers on its 401 (and a flood of bad tokens meets the limit too).
        await pipeline.limiter?.enforce(c, null);
        throw error;
      }
      // Before the route's own 401/403, so those answers carry the RateLimit headers too (docs/api.md).
      await pipeline.limiter?.enforce(c, identity);
      // A WebSocket's one-time ticket stands in for the token; the service redeems it before upgrading.
      const ticketed = !identity && isAllowedUpgrade(route, upstreamPath, c.req.raw) && carriesTicket(c.req.raw);
      if (route.policy.auth === 'required' && !identity && !ticketed) {
        throw unauthorized(`${route.prefix} needs Authorization: Bearer <access token>.`, { 'www-authenticate': 'Bearer realm="stratus"' });
      }
      const missing = route.policy.roles?.filter((role) => !identity?.roles.includes(role)) ?? [];
      if (missing.length) throw forbidden(`${route.prefix} needs the ${missing.join(', ')} role.`);
      return respond(c, route, identity, () => forward(c, pipeline, identity));
    };
    app.all(route.prefix, handler);
    app.all(`${route.prefix}/*`, handler);
  }
}
