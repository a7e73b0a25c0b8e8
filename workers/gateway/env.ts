import type { CacheBindings } from './cache/cache-config';
import type { CircuitBreakerObject } from './resilience/circuit-breaker-object';
import type { MetricsStore } from './ops/metrics-store';
import type { AlertEvaluator } from './monitoring/alert-evaluator';
import type { OriginHealthRegistry } from './traffic/origin-health-object';
import type { OpsLive } from './ops/ops-live-object';
import type { RateLimiter } from './traffic/rate-limiter-object';
import type { RouteWeights } from './traffic/route-weights-object';
import type { FlagStore } from './traffic/flag-store-object';
import type { CanaryRollout } from './traffic/canary-rollout-object';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

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
export interface GatewayBindings extends ServiceBindings, CacheBindings, TelemetryBindings {
  METRICS: DurableObjectNamespace<MetricsStore>;
  /** The alert evaluator (one object, "global"): rules, states and notifications (monitoring/alert-evaluator.ts). */
  ALERTS: DurableObjectNamespace<AlertEvaluator>;
  /** One circuit breaker per upstream, named after it. */
  BREAKERS: DurableObjectNamespace<CircuitBreakerObject>;
  /** One rate limiter per route and caller key (traffic/rate-limit.ts). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** One per versioned route, named after it: the weights every isolate routes by (traffic/route-versions.ts). */
  ROUTE_WEIGHTS: DurableObjectNamespace<RouteWeights>;
  /** One object ("flags"): the feature flags operators set at run time (traffic/live-flags.ts). */
  FLAGS: DurableObjectNamespace<FlagStore>;
  /** One per versioned route, named after it: its automated canary rollout (traffic/canary-rollout-object.ts). */
  ROLLOUTS: DurableObjectNamespace<CanaryRollout>;
  /** One object, `registry`: the last health check of every HTTP origin (traffic/origin-health.ts). */
  ORIGIN_HEALTH: DurableObjectNamespace<OriginHealthRegistry>;
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
  /**
   * Where /_ops/traces and /_ops/logs read spans and logs: the local OTLP receiver's base URL
   * (scripts/otel-receiver.mjs; `npm run dev` sets it). Unset (a deployment): those routes say so.
   */
  OTEL_QUERY_URL?: string;
  BODY_LIMIT_BYTES?: string;
  METRICS_FLUSH_INTERVAL_MS?: string;
  READY_TIMEOUT_MS?: string;
  /** JSON: per-route overrides of timeouts, retry, breaker and bulkhead (config.ts). */
  ROUTE_POLICIES?: string;
  BREAKER_REPORT_INTERVAL_MS?: string;
  /** How long an isolate trusts the route weights it read before reading them again. */
  ROUTE_WEIGHTS_REFRESH_MS?: string;
  /** JSON: the HTTP origins of each pool route, e.g. the legacy monolith's URL (config.ts). */
  ORIGIN_POOLS?: string;
  /** How long an isolate trusts the origins' health it read before reading it again. */
  ORIGIN_HEALTH_REFRESH_MS?: string;
  /** JSON: the default feature flag definitions (shared/flags); operators change them at run time (PUT /_ops/flags/:key). */
  FEATURE_FLAGS?: string;
  /** Within how long every isolate uses a flag changed through another (traffic/live-flags.ts). */
  FLAGS_REFRESH_MS?: string;
  /** QStash (local or Upstash's): read for /_ops/dlq. */
  QSTASH_URL?: string;
  QSTASH_TOKEN?: string;
  /** Alerts and the synthetic user (monitoring/monitoring-config.ts parses them). */
  ALERT_RULES?: string;
  ALERT_EVAL_INTERVAL_MS?: string;
  ALERT_WEBHOOK_URL?: string;
  /** Secret: signs alert notifications (Standard Webhooks). */
  ALERT_WEBHOOK_SECRET?: string;
  ALERT_EXTERNAL_URL?: string;
  SYNTHETIC_EMAIL?: string;
  /** Secret: the synthetic user's password. */
  SYNTHETIC_PASSWORD?: string;
  SYNTHETIC_BASE_URL?: string;
  SYNTHETIC_ORDER_TIMEOUT_MS?: string;
}
