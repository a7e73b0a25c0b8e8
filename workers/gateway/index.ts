import { cors } from 'hono/cors';
import type { AppEnv } from '../../shared/middleware/app-env';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import { forbidden, unauthorized } from '../../shared/http/problem';
import { cached } from './cache/response-cache';
import { callerIdentity } from './caller-identity';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';
import { flagsResponse } from './flags';
import { metricsResponse, recordRequest } from './metrics';
import { bffRoutes } from './bff/home';
import { docsRoutes } from './openapi/docs-routes';
import { opsRoutes } from './ops';
import { dashboardRoutes } from './ops-dashboard';
import { forwardToService } from './proxy';
import { enforceRateLimit } from './rate-limit';
import { serviceChecks } from './readiness';
import { versionResponseHeaders } from './route-versions';
import { rewritePath, routeLabel, routes, type Route } from './routes';

export { CacheTagsObject } from './cache/cache-tags-object';
export { CircuitBreakerObject } from './circuit-breaker-object';
export { MetricsStore } from './metrics-store';
export { RouteWeights } from './route-weights-object';
export { RateLimiter } from './rate-limiter-object';

/**
 * The gateway: the suite's only public worker. Shared baseline first (request id, trace, logs,
 * CORS, security headers, body limit, JSON-only bodies, problem+json), then the gateway's own
 * endpoints, and the route table, each route forwarded to its private service over a binding.
 */
const corsPolicy = cors({
  origin: (origin, c: Context<AppEnv<GatewayBindings>>) => (gatewayConfig(c.env).CORS_ORIGINS.includes(origin) ? origin : null),
  exposeHeaders: ['x-request-id', 'traceresponse', 'x-cache', 'x-fallback', 'x-fallback-reason', 'age', 'idempotent-replayed', 'x-served-by', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
  maxAge: 600,
});

const app = createServiceApp<GatewayBindings>({ service: 'gateway', onComplete: recordRequest, early: [corsPolicy] });

addHealthRoutes(app, serviceChecks, (c) => gatewayConfig(c.env).READY_TIMEOUT_MS);
app.get('/metrics', metricsResponse);
// The dashboard's page and files first: they carry no data, so they need no token (ops-dashboard.ts).
app.route('/_ops', dashboardRoutes);
app.route('/_ops', opsRoutes);
app.route('/bff', bffRoutes);
// The API's description (/openapi.json) and Swagger UI (/docs), with its files from the static assets.
app.route('/', docsRoutes);
// Below here: x-served-by for a versioned route, and the visitor cookie when one was minted.
app.use(versionResponseHeaders);
app.get('/api/flags', flagsResponse);

// Longest prefix first, so a more specific route (a strangler-fig carve-out) wins.
const byPrefixLength = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
for (const route of byPrefixLength) {
  const handler = async (c: Context<AppEnv<GatewayBindings>>) => {
    c.set('serviceLabel', route.name);
    c.set('routeLabel', routeLabel(route));
    // `none`, or a path where callers present no access token (login, refresh): who calls is not
    // asked, so a stale token a client attaches everywhere cannot lock it out of getting a new one.
    const anonymous = route.policy.auth === 'none' || (route.policy.anonymousPaths?.includes(rewritePath(route, c.req.path)) ?? false);
    let identity: Identity | null;
    try {
      identity = anonymous ? null : await callerIdentity(c);
    } catch (error) {
      // A refused token is still a request on a limited route: counted by address, with the
      // route's RateLimit headers on its 401 (and a flood of bad tokens meets the limit too).
      await enforceRateLimit(c, route, null);
      throw error;
    }
    // Before the route's own 401/403, so those answers carry the RateLimit headers too (API.md).
    await enforceRateLimit(c, route, identity);
    if (route.policy.auth === 'required' && !identity) {
      throw unauthorized(`${route.prefix} needs Authorization: Bearer <access token>.`, { 'www-authenticate': 'Bearer realm="stratus"' });
    }
    const missing = route.policy.roles?.filter((role) => !identity?.roles.includes(role)) ?? [];
    if (missing.length) throw forbidden(`${route.prefix} needs the ${missing.join(', ')} role.`);
    // Through the route's response cache, if it has one (cache/response-cache.ts).
    return cached(c, route, identity, () => forwardToService(c, route, identity));
  };
  app.all(route.prefix, handler);
  app.all(`${route.prefix}/*`, handler);
}

export type { Route };
export default app;
