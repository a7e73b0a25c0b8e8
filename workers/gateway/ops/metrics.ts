import type { Context } from 'hono';
import { BatchingRecorder } from '../../../shared/metrics/batching-recorder';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type MetricDefinition } from '../../../shared/metrics/prometheus-text';
import type { MetricBatch } from '../../../shared/metrics/metric-batch';
import { RED_METRIC_DEFINITIONS } from '../../../shared/metrics/red-metrics';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { CompletedRequest } from '../../../shared/middleware/request-context';
import { breakerSnapshots } from '../resilience/breakers';
import { gatewayConfig } from '../config';
import { opsGet } from './ops-services';
import { countDeadLetters } from './dead-letters';
import { collectTotals, type TotalsSources } from './suite-totals';
import { SYNTHETIC_METRIC_DEFINITIONS } from '../monitoring/synthetic-metrics';
import type { GatewayBindings } from '../env';

/** Every metric the gateway exports, with its HELP text (docs/api.md's names). */
export const METRIC_DEFINITIONS: Record<string, MetricDefinition> = {
  http_requests_total: {
    type: 'counter',
    help: 'Requests answered by the gateway, by upstream service, route pattern, method and status.',
  },
  http_request_duration_seconds: {
    type: 'histogram',
    help: 'Time from the gateway receiving a request to its response, by upstream service, route pattern and method.',
  },
  circuit_breaker_state: {
    type: 'gauge',
    help: 'Each upstream circuit breaker as its Durable Object holds it: 0 closed, 1 half-open, 2 open.',
  },
  circuit_breaker_transitions_total: {
    type: 'counter',
    help: 'Circuit breaker state changes, by upstream and from/to state.',
  },
  route_version_requests_total: {
    type: 'counter',
    help: 'Requests to a route with versions (canary / blue-green), by route, the version chosen, and status.',
  },
  route_version_request_duration_seconds: {
    type: 'histogram',
    help: 'Time to respond to requests of a route with versions, by route and the version chosen: what an automated canary rollout judges p99 by.',
  },
  origin_requests_total: {
    type: 'counter',
    help: 'Attempts sent to each HTTP origin of a pool route, by route, origin and outcome (the status code, or error): the share /_ops/origins shows.',
  },
  rate_limit_decisions_total: {
    type: 'counter',
    help: 'Rate-limit decisions by route: allowed, refused (429), or error (the limiter did not answer and the request was let through).',
  },
  saga_total: {
    type: 'gauge',
    help: 'Order sagas by status (PENDING, COMPENSATING, STUCK, COMPLETED, CANCELLED), as the orders service records them.',
  },
  outbox_dead_total: {
    type: 'gauge',
    help: 'Outbox rows parked as dead after their last allowed publish attempt, by service, waiting for an operator (POST /_ops/outbox/:service/retry).',
  },
  cache_requests_total: {
    type: 'counter',
    help: 'Requests to routes with a cache policy, by route and result: hit, stale (served while refreshed), miss, or bypass (not cacheable).',
  },
  qstash_dlq_messages: {
    type: 'gauge',
    help: "Deliveries in QStash's dead-letter queue (the first page, up to 100), waiting for an operator (/_ops/dlq).",
  },
  // Each service's own RED series (shared/metrics/red-metrics.ts), and the synthetic user's.
  ...RED_METRIC_DEFINITIONS,
  ...SYNTHETIC_METRIC_DEFINITIONS,
};

export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const metricsStub = (env: GatewayBindings) => env.METRICS.get(env.METRICS.idFromName('global'));

/**
 * One recorder per isolate (module scope lives as long as the isolate). Its sink reads the
 * namespace from the latest request's env: bindings are the same for every request of an isolate.
 */
let latestEnv: GatewayBindings | undefined;
let recorder: BatchingRecorder | undefined;

export function isolateRecorder(env: GatewayBindings): BatchingRecorder {
  latestEnv = env;
  recorder ??= new BatchingRecorder({
    source: crypto.randomUUID(),
    flushIntervalMs: gatewayConfig(env).METRICS_FLUSH_INTERVAL_MS,
    send: async (source, seq, batch) => {
      if (!latestEnv) return;
      await metricsStub(latestEnv).merge(source, seq, batch);
    },
  });
  return recorder;
}

/** Counts one finished request and makes sure a flush is on its way (`waitUntil`, off the hot path). */
export function recordRequest(c: Context<AppEnv<GatewayBindings>>, request: CompletedRequest): void {
  const metrics = isolateRecorder(c.env);
  const labels = { service: request.service, route: request.route, method: request.method };
  metrics.counter('http_requests_total', { ...labels, status: String(request.status) });
  metrics.observe('http_request_duration_seconds', labels, request.durationMs / 1000, DURATION_BUCKETS_SECONDS);
  // Its own counter, not a label on the one above: only versioned routes have it (a few series each).
  const chosen = c.get('routeVersion');
  if (chosen) {
    metrics.counter('route_version_requests_total', { route: chosen.route, version: chosen.version, status: String(request.status) });
    metrics.observe('route_version_request_duration_seconds', { route: chosen.route, version: chosen.version }, request.durationMs / 1000, DURATION_BUCKETS_SECONDS);
  }
  const flush = metrics.scheduleFlush();
  if (!flush) return;
  const guarded = flush.catch((error: unknown) => c.get('log').warn('metrics flush failed; kept for the next one', { error }));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No execution context (e.g. `app.request` in a unit test): the promise still runs.
  }
}

/** A rate-limit decision, counted with the request's other metrics (its flush is recordRequest's). */
export function recordRateLimitDecision(c: Context<AppEnv<GatewayBindings>>, route: string, decision: 'allowed' | 'refused' | 'error'): void {
  isolateRecorder(c.env).counter('rate_limit_decisions_total', { route, decision });
}

/** One attempt on an HTTP origin of a pool (traffic/origin-proxy.ts), counted with the request's other metrics. */
export function recordOriginAttempt(c: Context<AppEnv<GatewayBindings>>, route: string, origin: string, outcome: string): void {
  isolateRecorder(c.env).counter('origin_requests_total', { route, origin, outcome });
}

/** A response-cache outcome (cache/response-cache.ts), counted with the request's other metrics (its flush is recordRequest's). */
export function recordCacheRequest(c: Context<AppEnv<GatewayBindings>>, route: string, result: 'hit' | 'miss' | 'stale' | 'bypass'): void {
  isolateRecorder(c.env).counter('cache_requests_total', { route, result });
}

/** The totals across all isolates, after this isolate's pending deltas (so a read right after a request sees it). */
export async function metricTotals(c: Context<AppEnv<GatewayBindings>>): Promise<MetricBatch> {
  try {
    await isolateRecorder(c.env).flush();
  } catch (error) {
    c.get('log').warn('metrics flush before read failed', { error });
  }
  return metricsStub(c.env).snapshot();
}

/** The sources of `/metrics`, read through this request (suite-totals.ts). */
export function requestSources(c: Context<AppEnv<GatewayBindings>>): TotalsSources {
  return {
    gateway: () => metricTotals(c),
    breakers: () => breakerSnapshots(c.env, (upstream, error) => c.get('log').warn('breaker state unreadable for /metrics', { upstream, error })),
    serviceGet: (to, path) => opsGet(c, to, path),
    deadLetters: () => countDeadLetters(c.env),
  };
}

/**
 * `/metrics`: this isolate's pending deltas are flushed first, so a scrape right after a request
 * sees it; then the totals across all isolates and every service are rendered.
 */
export async function metricsResponse(c: Context<AppEnv<GatewayBindings>>): Promise<Response> {
  const totals = await collectTotals(requestSources(c));
  return new Response(renderPrometheus(totals, METRIC_DEFINITIONS), {
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}
