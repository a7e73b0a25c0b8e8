import { z } from 'zod';
import { parseSeriesKey, type HistogramData, type MetricBatch } from '../../../shared/metrics/metric-batch';

/**
 * `GET /_ops/metrics`'s answer, as zod schemas: the types the code below builds are inferred from
 * them, and the OpenAPI document (openapi/gateway-openapi.ts) describes the endpoint with them, so
 * the two cannot drift.
 */
const histogram = z.strictObject({
  bounds: z.array(z.number()).describe('Upper bounds in seconds, ascending; +Inf is implicit as the last bucket.'),
  counts: z.array(z.number().int().min(0)).describe('Non-cumulative counts, one per bound plus one for +Inf.'),
  sum: z.number().min(0),
  count: z.number().int().min(0),
}) satisfies z.ZodType<HistogramData>;

/** One route's traffic since the metrics began: every method and status added up. */
const routeTraffic = z.strictObject({
  service: z.string(),
  route: z.string(),
  requests: z.number().int().min(0),
  serverErrors: z.number().int().min(0).describe("Answers with a 5xx status (the upstream's or the gateway's own)."),
  durationSeconds: histogram.describe('`http_request_duration_seconds` of every method, added bucket by bucket.'),
});
export type RouteTraffic = z.infer<typeof routeTraffic>;

const rateLimitRatio = z.strictObject({
  route: z.string(),
  allowed: z.number().int().min(0),
  refused: z.number().int().min(0),
  error: z.number().int().min(0),
  refusedRatio: z.number().min(0).max(1).nullable().describe('Refused over all decisions; null before the first decision.'),
});
export type RateLimitRatio = z.infer<typeof rateLimitRatio>;

const cacheRatio = z.strictObject({
  route: z.string(),
  hit: z.number().int().min(0),
  stale: z.number().int().min(0),
  miss: z.number().int().min(0),
  bypass: z.number().int().min(0),
  hitRatio: z.number().min(0).max(1).nullable().describe('Hits and stale answers over every cacheable lookup (a bypass was never a lookup); null before the first.'),
});
export type CacheRatio = z.infer<typeof cacheRatio>;

/** `GET /_ops/metrics`: the dashboard's view of the totals `/metrics` renders, as JSON. */
export const opsMetricsSchema = z.strictObject({
  at: z.iso.datetime().describe('When the totals were read (ISO 8601): a client takes rates from two reads and their times.'),
  routes: z.array(routeTraffic),
  rateLimits: z.array(rateLimitRatio),
  cache: z.array(cacheRatio),
});
export type OpsMetrics = z.infer<typeof opsMetricsSchema>;

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** Adds `from` into `into` bucket by bucket; other bounds (none yet, or redefined by a deploy) start over from `from`. */
function addHistogram(into: HistogramData, from: HistogramData): HistogramData {
  if (into.bounds.join() !== from.bounds.join()) return { bounds: [...from.bounds], counts: [...from.counts], sum: from.sum, count: from.count };
  return { bounds: into.bounds, counts: into.counts.map((n, i) => n + (from.counts[i] ?? 0)), sum: into.sum + from.sum, count: into.count + from.count };
}

/**
 * Regroups the suite-wide totals by route: what the dashboard charts (request rate and latency
 * percentiles per route, from the difference between two reads) and the rate-limit and cache
 * ratios. Totals, not rates: a rate needs two points in time, and the client holds the previous
 * one, so no per-viewer state lives on the server.
 */
export function opsMetricsView(totals: MetricBatch, now: number): OpsMetrics {
  const routes = new Map<string, RouteTraffic>();
  const routeOf = (service: string, route: string) => {
    const key = `${service} ${route}`;
    let traffic = routes.get(key);
    if (!traffic) {
      traffic = { service, route, requests: 0, serverErrors: 0, durationSeconds: { bounds: [], counts: [], sum: 0, count: 0 } };
      routes.set(key, traffic);
    }
    return traffic;
  };
  const rateLimits = new Map<string, Omit<RateLimitRatio, 'refusedRatio'>>();
  const cache = new Map<string, Omit<CacheRatio, 'hitRatio'>>();

  for (const [key, value] of Object.entries(totals.counters)) {
    const { name, labels } = parseSeriesKey(key);
    const route = labels.route ?? '';
    if (name === 'http_requests_total') {
      const traffic = routeOf(labels.service ?? '', route);
      traffic.requests += value;
      if ((labels.status ?? '').startsWith('5')) traffic.serverErrors += value;
    } else if (name === 'rate_limit_decisions_total') {
      const decisions = rateLimits.get(route) ?? { route, allowed: 0, refused: 0, error: 0 };
      const decision = labels.decision;
      if (decision === 'allowed' || decision === 'refused' || decision === 'error') decisions[decision] += value;
      rateLimits.set(route, decisions);
    } else if (name === 'cache_requests_total') {
      const results = cache.get(route) ?? { route, hit: 0, stale: 0, miss: 0, bypass: 0 };
      const result = labels.result;
      if (result === 'hit' || result === 'stale' || result === 'miss' || result === 'bypass') results[result] += value;
      cache.set(route, results);
    }
  }
  for (const [key, histogram] of Object.entries(totals.histograms)) {
    const { name, labels } = parseSeriesKey(key);
    if (name !== 'http_request_duration_seconds') continue;
    const traffic = routeOf(labels.service ?? '', labels.route ?? '');
    traffic.durationSeconds = addHistogram(traffic.durationSeconds, histogram);
  }

  const byName = <T extends { route: string }>(a: T, b: T) => a.route.localeCompare(b.route);
  return {
    at: new Date(now).toISOString(),
    routes: [...routes.values()].sort((a, b) => b.requests - a.requests || byName(a, b)),
    rateLimits: [...rateLimits.values()].map((d) => ({ ...d, refusedRatio: ratio(d.refused, d.allowed + d.refused + d.error) })).sort(byName),
    cache: [...cache.values()].map((r) => ({ ...r, hitRatio: ratio(r.hit + r.stale, r.hit + r.stale + r.miss) })).sort(byName),
  };
}
