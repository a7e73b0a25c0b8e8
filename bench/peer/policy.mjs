// The one set of policies both gateways are built from (bench/peer): the catalog route of
// workers/gateway/routes.ts, as the express stack can say it too. Numbers live here only, so the
// two cannot drift apart.

/** Gateway path prefix, stripped before the upstream: GET /api/catalog/x → GET /x. */
export const PREFIX = '/api/catalog';

/** Deadline of an upstream call (stratus `timeoutMs`; http-proxy-middleware `proxyTimeout`, opossum `timeout`). */
export const TIMEOUT_MS = 3_000;

/**
 * Per caller (CF-Connecting-IP, one per connection), high enough never to trip under the load:
 * both gateways count every request and send RateLimit headers, neither refuses one.
 */
export const RATE_LIMIT = { limit: 10_000_000, windowMs: 10_000 };

/** The catalog route's breaker: opens at ≥ 50 % failures over ≥ 5 calls in 30 s, stays open 10 s. */
export const BREAKER = { failureRatePercent: 50, minimumCalls: 5, windowMs: 30_000, windowBuckets: 10, openDurationMs: 10_000 };

/** stratus's ROUTE_POLICIES for the catalog route (workers/gateway/config.ts), from the numbers above. */
export const stratusRoutePolicies = {
  catalog: {
    timeoutMs: TIMEOUT_MS,
    // The express stack has no retries; on a healthy upstream neither would retry anyway.
    retry: false,
    rateLimit: { algorithm: 'sliding-window', limit: RATE_LIMIT.limit, windowMs: RATE_LIMIT.windowMs },
    breaker: {
      failureRateThreshold: BREAKER.failureRatePercent,
      minimumCalls: BREAKER.minimumCalls,
      slidingWindowMs: BREAKER.windowMs,
      windowBuckets: BREAKER.windowBuckets,
      openDurationMs: BREAKER.openDurationMs,
    },
  },
};
