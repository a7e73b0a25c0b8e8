import type { Context, Hono } from 'hono';
import type { Identity } from '../../shared/http/identity';
import { forbidden, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { callerIdentity } from './auth/caller-identity';
import type { GatewayBindings } from './env';
import { perIsolate } from './per-isolate';
import { forward } from './proxy';
import { routePipeline } from './route-pipeline';
import { isAnonymousPath, isOriginRoute, rewritePath, routeLabel, serviceName, type OriginRoute, type Route } from './routes';
import { forwardToPool } from './traffic/origin-proxy';
import { routeLimiter } from './traffic/rate-limit';
import { noteServedBy } from './traffic/served-by';
import { carriesTicket, isAllowedUpgrade } from './traffic/websocket-upgrade';

type Ctx = Context<AppEnv<GatewayBindings>>;

/**
 * What answers a request once it is let through: `forward` sends it upstream. The Cloudflare
 * worker puts its response cache here (cache/response-cache.ts `cached`); without one, the call
 * is simply forwarded.
 */
export type Responder = (c: Ctx, route: Route, identity: Identity | null, forward: () => Promise<Response>) => Promise<Response>;

const forwardOnly: Responder = (_c, _route, _identity, forward) => forward();

/** A pool route's label and rate limiter in this isolate (a service route's are in its pipeline). */
const poolEdge = perIsolate((env, route: OriginRoute) => ({ label: routeLabel(route), limiter: routeLimiter(env, route) }));

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
export function addRouteTable(app: Hono<AppEnv<GatewayBindings>>, table: readonly (Route | OriginRoute)[], respond: Responder = forwardOnly): void {
  // Longest prefix first, so a more specific route (a strangler-fig carve-out) wins.
  const byPrefixLength = [...table].sort((a, b) => b.prefix.length - a.prefix.length);
  for (const route of byPrefixLength) {
    const handler = async (c: Ctx) => {
      // A pool of HTTP origins (traffic/origin-proxy.ts), or a service through its pipeline.
      const pipeline = isOriginRoute(route) ? poolEdge(c.env, route) : routePipeline(c.env, route);
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
      const ticketed = !identity && !isOriginRoute(route) && isAllowedUpgrade(route, upstreamPath, c.req.raw) && carriesTicket(c.req.raw);
      if (route.policy.auth === 'required' && !identity && !ticketed) {
        throw unauthorized(`${route.prefix} needs Authorization: Bearer <access token>.`, { 'www-authenticate': 'Bearer realm="stratus"' });
      }
      const missing = route.policy.roles?.filter((role) => !identity?.roles.includes(role)) ?? [];
      if (missing.length) throw forbidden(`${route.prefix} needs the ${missing.join(', ')} role.`);
      if (isOriginRoute(route)) return forwardToPool(c, route, identity);
      if (!route.versions) noteServedBy(c, serviceName(route));
      return respond(c, route, identity, () => forward(c, routePipeline(c.env, route), identity));
    };
    if (route.prefix === '/') {
      // The fallback (the strangler fig's monolith): whatever no route, and none of the gateway's
      // own endpoints, matched. As the not-found handler it stays last whatever is mounted later.
      app.notFound(handler);
      continue;
    }
    app.all(route.prefix, handler);
    app.all(`${route.prefix}/*`, handler);
  }
}
