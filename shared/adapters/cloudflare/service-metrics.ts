import { Hono, type Context } from 'hono';
import { requireOps } from '../../http/identity';
import { BatchingRecorder } from '../../metrics/batching-recorder';
import { recordServiceCall, recordServiceRequest, type CallOutcome } from '../../metrics/red-metrics';
import type { AppEnv } from '../../middleware/app-env';
import type { CompletedRequest } from '../../middleware/request-context';
import type { MetricsStore } from './metrics-store';

/** What a service binds to record its own metrics (its wrangler.toml: METRICS → MetricsStore). */
export interface ServiceMetricsBindings {
  METRICS: DurableObjectNamespace<MetricsStore>;
  /** At most one flush to the store per isolate per this many ms; default 1000 (0 in tests: at once). */
  METRICS_FLUSH_INTERVAL_MS?: string;
}

/**
 * How a service's numbers reach the gateway's `/metrics`: each isolate counts in memory and
 * sends its deltas to the service's own MetricsStore at most once per flush interval, from
 * `waitUntil` (the same batching as the gateway's, docs/architecture.md decision 2: nothing on
 * the request path waits on the object). The gateway reads each service's totals over its
 * service binding (`GET /_metrics`) only when scraped, so a scrape costs one call per service
 * and a request costs a few map updates. A shared store for every worker would put all their
 * isolates' flushes on one object and tie each service's deploy to the gateway's; one store per
 * service keeps its numbers with it, as its database is.
 */
const recorders = new WeakMap<object, BatchingRecorder>();

export function serviceMetrics(env: ServiceMetricsBindings): BatchingRecorder {
  let recorder = recorders.get(env.METRICS);
  if (!recorder) {
    const namespace = env.METRICS;
    const interval = Number(env.METRICS_FLUSH_INTERVAL_MS ?? 1_000);
    recorder = new BatchingRecorder({
      source: crypto.randomUUID(),
      flushIntervalMs: Number.isFinite(interval) && interval >= 0 ? interval : 1_000,
      // A stub belongs to the request that made it (workerd refuses I/O across requests): one per send.
      send: async (source, seq, batch) => {
        await namespace.get(namespace.idFromName('global')).merge(source, seq, batch);
      },
    });
    recorders.set(env.METRICS, recorder);
  }
  return recorder;
}

/** Something that keeps a promise alive after the answer: an ExecutionContext or a DurableObjectState. */
export interface Lifetime {
  waitUntil(promise: Promise<unknown>): void;
}

/** Makes sure a flush is on its way, off the request's path; a failed flush keeps its batch for the next. */
export function flushInBackground(recorder: BatchingRecorder, lifetime: Lifetime | undefined, onError: (error: unknown) => void): void {
  const flush = recorder.scheduleFlush();
  if (!flush) return;
  const guarded = flush.catch(onError);
  try {
    lifetime?.waitUntil(guarded);
  } catch {
    // No lifetime to extend (a unit test's `app.request`): the promise still runs.
  }
}

/** `onComplete` for createServiceApp: the service's RED metrics for one answered request. */
export function recordServiceRequestOf(c: Context, request: CompletedRequest): void {
  const env = c.env as Partial<ServiceMetricsBindings> | undefined;
  if (!env?.METRICS) return;
  const recorder = serviceMetrics(env as ServiceMetricsBindings);
  recordServiceRequest(recorder, request);
  let lifetime: Lifetime | undefined;
  try {
    lifetime = c.executionCtx;
  } catch {
    lifetime = undefined;
  }
  flushInBackground(recorder, lifetime, (error) => (c as Context<AppEnv>).get('log')?.warn('metrics flush failed; kept for the next one', { error }));
}

/** Records one call this service made (saga → catalog, outbox → qstash) and schedules its flush. */
export function recordCall(env: Partial<ServiceMetricsBindings>, lifetime: Lifetime | undefined, call: { from: string; to: string; outcome: CallOutcome; durationMs: number }): void {
  if (!env.METRICS) return;
  const recorder = serviceMetrics(env as ServiceMetricsBindings);
  recordServiceCall(recorder, call.from, call.to, call.outcome, call.durationMs);
  flushInBackground(recorder, lifetime, () => {
    // Kept for the next flush; a call's caller has its own log for the call itself.
  });
}

/**
 * `GET /_metrics`: this service's totals across its isolates, as MetricBatch JSON, for the
 * gateway's `/metrics` (ops scope). This isolate's pending deltas go first, so a scrape right
 * after a request sees it.
 */
export const serviceMetricsRoutes = new Hono<AppEnv<ServiceMetricsBindings>>()
  .use(requireOps("A service's metrics are read by the gateway's /metrics."))
  .get('/', async (c) => {
    const recorder = serviceMetrics(c.env);
    try {
      await recorder.flush();
    } catch (error) {
      c.get('log').warn('metrics flush before read failed', { error });
    }
    const totals = await c.env.METRICS.get(c.env.METRICS.idFromName('global')).snapshot();
    return c.json(totals, 200, { 'cache-control': 'no-store' });
  });
