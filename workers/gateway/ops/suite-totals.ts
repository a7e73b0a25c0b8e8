import { addCounter, mergeBatch, setGauge, type MetricBatch } from '../../../shared/metrics/metric-batch';
import { SERVICE_METRICS_PATH } from '../../../shared/middleware/health-paths';
import { BREAKER_STATE_VALUE, type UpstreamBreaker } from '../resilience/breakers';
import { serviceTargets, type ServiceTarget } from '../traffic/route-versions';
import { OUTBOX_SERVICES } from './outbox-services';
import type { OpsTarget } from './ops-services';

/**
 * Where the suite's numbers come from. `/metrics` reads them through the request's context
 * (metrics.ts); the alert evaluator, which has no request, reads the same sources from its env
 * (alerts/alert-sources.ts), so both see exactly the same totals.
 */
export interface TotalsSources {
  /** The gateway's own series, summed across its isolates (its MetricsStore). */
  gateway(): Promise<MetricBatch>;
  /** Every upstream's breaker, from its Durable Object. */
  breakers(): Promise<Record<string, UpstreamBreaker>>;
  /** A GET of a service's private endpoint with an ops-scoped service token: its JSON body. */
  serviceGet<T>(to: OpsTarget, path: string): Promise<T>;
  /** Messages in QStash's dead-letter queue (at most the first page), or null when unknown. */
  deadLetters(): Promise<number | null>;
}

/**
 * Everything `/metrics` carries: the gateway's series, each service's own RED series (read
 * over its binding at scrape time, service-metrics.ts), the breakers, the sagas by status, each
 * outbox's parked rows and the dead-letter queue. Each source is read in parallel and a source
 * that does not answer only loses its own series for this read.
 */
export async function collectTotals(sources: TotalsSources): Promise<MetricBatch> {
  const [totals, breakers, services, sagas, outboxes, deadLetters] = await Promise.all([
    sources.gateway(),
    sources.breakers(),
    // One call per service worker (the catalog's canary too: the same service, its own store).
    Promise.all(serviceTargets().map((target: ServiceTarget) => sources.serviceGet<MetricBatch>(target, SERVICE_METRICS_PATH).catch(() => null))),
    // The orders service counts its sagas; a read without it still answers, without the series.
    sources.serviceGet<Record<string, number>>('ORDERS', '/sagas/counts').catch(() => null),
    // Likewise each outbox's parked rows: a service that does not answer has no series this read.
    Promise.all(
      Object.entries(OUTBOX_SERVICES).map(([service, binding]) =>
        sources.serviceGet<{ dead: number }>(binding, '/_outbox').then(({ dead }) => [service, dead] as const, () => null),
      ),
    ),
    sources.deadLetters().catch(() => null),
  ]);
  // A copy: the gateway's snapshot may be the store's own object (an in-process read in tests).
  const merged = mergeBatch({ counters: {}, histograms: {}, gauges: {} }, totals);
  // A service that answers something else (a stand-in, an older version mid-deploy) adds nothing.
  for (const batch of services) if (isMetricBatch(batch)) mergeBatch(merged, batch);
  addBreakerSeries(merged, breakers);
  for (const [status, count] of Object.entries(sagas ?? {})) setGauge(merged, 'saga_total', { status }, count);
  for (const entry of outboxes) if (entry) setGauge(merged, 'outbox_dead_total', { service: entry[0] }, entry[1]);
  if (deadLetters !== null) setGauge(merged, 'qstash_dlq_messages', {}, deadLetters);
  return merged;
}

function isMetricBatch(value: unknown): value is MetricBatch {
  if (typeof value !== 'object' || value === null) return false;
  const fields = value as Record<string, unknown>;
  return ['counters', 'histograms', 'gauges'].every((field) => typeof fields[field] === 'object' && fields[field] !== null);
}

/**
 * Breaker series are read from each breaker's Durable Object at scrape time rather than counted
 * per isolate: the object already holds the one true state and the transition counts.
 */
function addBreakerSeries(totals: MetricBatch, breakers: Record<string, UpstreamBreaker>): void {
  for (const [upstream, snapshot] of Object.entries(breakers)) {
    setGauge(totals, 'circuit_breaker_state', { upstream }, BREAKER_STATE_VALUE[snapshot.state]);
    for (const [transition, count] of Object.entries(snapshot.transitions)) {
      const [from = '', to = ''] = transition.split('->');
      addCounter(totals, 'circuit_breaker_transitions_total', { upstream, from, to }, count);
    }
  }
}
