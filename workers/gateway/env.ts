import type { CacheBindings } from './cache/cache-config';
import type { CircuitBreakerObject } from './resilience/circuit-breaker-object';
import type { MetricsStore } from './ops/metrics-store';
import type { OpsLive } from './ops/ops-live-object';
import type { RateLimiter } from './traffic/rate-limiter-object';
import type { RouteWeights } from './traffic/route-weights-object';

/** Service bindings to the private workers; the route table names its targets by these keys. */
export interface ServiceBindings {
  CATALOG: Fetcher;
  /** The catalog's second version (workers/catalog-canary): the catalog route's `v2`. */
  CATALOG_CANARY: Fetcher;
  PAYMENTS: Fetcher;
  USERS: Fetcher;
  ORDERS: Fetcher;
  NOTIFICATIONS: Fetcher;
  /** The event-sourced ledger (workers/ledger): `/api/ledger`, and the projections' rebuild for /_ops. */
  LEDGER: Fetcher;
}

/** The gateway's bindings (root wrangler.toml, secrets in .dev.vars locally); the response cache's are in cache/cache-config.ts. */
export interface GatewayBindings extends ServiceBindings, CacheBindings {
  METRICS: DurableObjectNamespace<MetricsStore>;
  /** One circuit breaker per upstream, named after it. */
  BREAKERS: DurableObjectNamespace<CircuitBreakerObject>;
  /** One rate limiter per route and caller key (traffic/rate-limit.ts). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** One per versioned route, named after it: the weights every isolate routes by (traffic/route-versions.ts). */
  ROUTE_WEIGHTS: DurableObjectNamespace<RouteWeights>;
  /** One for the deployment: the ops dashboard's socket, presence and live panels (ops/ops-live-object.ts). */
  OPS_LIVE: DurableObjectNamespace<OpsLive>;
  /**
   * The static assets (`[assets]` in wrangler.toml: workers/gateway/public): the ops dashboard's
   * page, scripts and styles, and Swagger UI's files for /docs. The worker runs first for every
   * request and hands these paths to it.
   */
  ASSETS?: Fetcher;
  ADMIN_TOKEN?: string;
  /** Secret: signs the service token every call to a service carries. */
  SERVICE_TOKEN_PRIVATE_JWK?: string;
  ACCESS_TOKEN_ISSUER?: string;
  ACCESS_TOKEN_AUDIENCE?: string;
  ALLOW_CHAOS?: string;
  CORS_ORIGINS?: string;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
  METRICS_FLUSH_INTERVAL_MS?: string;
  READY_TIMEOUT_MS?: string;
  /** JSON: per-route overrides of timeouts, retry, breaker and bulkhead (config.ts). */
  ROUTE_POLICIES?: string;
  BREAKER_REPORT_INTERVAL_MS?: string;
  /** How long an isolate trusts the route weights it read before reading them again. */
  ROUTE_WEIGHTS_REFRESH_MS?: string;
  /** JSON: feature flag definitions (shared/flags), evaluated per caller at GET /api/flags. */
  FEATURE_FLAGS?: string;
  /** QStash (local or Upstash's): read for /_ops/dlq. */
  QSTASH_URL?: string;
  QSTASH_TOKEN?: string;
}
