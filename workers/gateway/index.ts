import type { AppEnv } from '../../shared/middleware/app-env';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import { cached } from './cache/response-cache';
import { gatewayConfig } from './config';
import { corsPolicy } from './cors-policy';
import type { GatewayBindings } from './env';
import { flagsResponse } from './traffic/flags';
import { metricsResponse, recordRequest } from './ops/metrics';
import { bffRoutes } from './bff/home';
import { docsRoutes } from './openapi/docs-routes';
import { opsRoutes } from './ops/ops';
import { opsLiveUpgrade } from './ops/ops-live-routes';
import { dashboardRoutes } from './ops/ops-dashboard';
import { serviceChecks } from './ops/readiness';
import { versionResponseHeaders } from './traffic/route-versions';
import { servedByHeader } from './traffic/served-by';
import { addRouteTable } from './route-table';
import { originRoutes, routes, type Route } from './routes';
import { gatewayScheduled, serveSyntheticChecksWith } from './monitoring/gateway-cron';

export { CacheTagsObject } from './cache/cache-tags-object';
export { CircuitBreakerObject } from './resilience/circuit-breaker-object';
export { MetricsStore } from './ops/metrics-store';
export { AlertEvaluator } from './monitoring/alert-evaluator';
export { OriginHealthRegistry } from './traffic/origin-health-object';
export { OpsLive } from './ops/ops-live-object';
export { RouteWeights } from './traffic/route-weights-object';
export { RateLimiter } from './traffic/rate-limiter-object';
export { FlagStore } from './traffic/flag-store-object';
export { CanaryRollout } from './traffic/canary-rollout-object';

/**
 * The gateway: the suite's only public worker. Shared baseline first (request id, trace, logs,
 * CORS, security headers, body limit, JSON-only bodies, problem+json), then the gateway's own
 * endpoints, and the route table, each route forwarded to its private service over a binding.
 */
const app = createServiceApp<GatewayBindings>({ service: 'gateway', onComplete: recordRequest, early: [corsPolicy] });

addHealthRoutes(app, serviceChecks, (c) => gatewayConfig(c.env).READY_TIMEOUT_MS);
app.get('/metrics', metricsResponse);
// The dashboard's page and files first: they carry no data, so they need no token (ops/ops-dashboard.ts).
app.route('/_ops', dashboardRoutes);
// The dashboard's socket: its one-time ticket is the credential, checked before the upgrade (ops/ops-live-routes.ts).
app.route('/_ops', opsLiveUpgrade);
app.route('/_ops', opsRoutes);
app.route('/bff', bffRoutes);
// The API's description (/openapi.json) and Swagger UI (/docs), with its files from the static assets.
app.route('/', docsRoutes);
// Below here: x-served-by for a versioned route, and the visitor cookie when one was minted.
app.use(versionResponseHeaders);
app.use(servedByHeader);
app.get('/api/flags', flagsResponse);

// Through the route's response cache, if it has one (cache/response-cache.ts). Then the pools of
// HTTP origins, among them the legacy monolith as the fallback for every path nothing else claims.
addRouteTable(app, [...routes, ...originRoutes], cached);

// The synthetic check (monitoring/gateway-cron.ts) calls the app in-process.
serveSyntheticChecksWith(app.fetch);

export type { Route };
/**
 * HTTP through the app (its `fetch`); the cron trigger's `scheduled` checks the HTTP origins'
 * health, runs the synthetic check and keeps the alerts evaluating. Added to the app itself, so importers still get the Hono app.
 */
export default Object.assign(app, { scheduled: gatewayScheduled });
