import type { Labels } from './metric-batch';
import type { MetricDefinition } from './prometheus-text';

/** What records a metric: a BatchingRecorder, or anything with the same three methods. */
export interface MetricRecorder {
  counter(name: string, labels: Labels, by?: number): void;
  observe(name: string, labels: Labels, value: number, bounds: readonly number[]): void;
}

/** The same buckets as the gateway's `http_request_duration_seconds`, so panels compare like with like. */
export const RED_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * The RED metrics (rate, errors, duration) every service records for itself, and the calls it
 * makes to another service or to the broker. `route` is the Hono route pattern that answered
 * (`/products/:id`, `unmatched` for a 404 no handler took), never a raw path, so the series a
 * service can make are bounded by its route table.
 */
export const RED_METRIC_DEFINITIONS: Record<string, MetricDefinition> = {
  service_requests_total: {
    type: 'counter',
    help: "Requests a service answered, as the service itself saw them, by service, route pattern, method and status (5xx are its errors).",
  },
  service_request_duration_seconds: {
    type: 'histogram',
    help: 'Time a service took to answer, by service, route pattern and method.',
  },
  service_call_duration_seconds: {
    type: 'histogram',
    help: 'Calls one service makes to another (the order saga to catalog and payments) or to the broker (an outbox publish to qstash), by caller, callee and outcome (ok, error, timeout).',
  },
};

/** How a call ended: answered 2xx (ok), answered otherwise or failed (error), or cut by its deadline (timeout). */
export type CallOutcome = 'ok' | 'error' | 'timeout';

export interface ServiceRequest {
  service: string;
  route: string;
  method: string;
  status: number;
  durationMs: number;
}

/** One answered request, counted and timed. */
export function recordServiceRequest(metrics: MetricRecorder, request: ServiceRequest): void {
  const labels = { service: request.service, route: request.route, method: request.method };
  metrics.counter('service_requests_total', { ...labels, status: String(request.status) });
  metrics.observe('service_request_duration_seconds', labels, request.durationMs / 1000, RED_DURATION_BUCKETS_SECONDS);
}

/** One call from `from` to `to`, timed. `to` is a service or `qstash`: a handful of series per caller. */
export function recordServiceCall(metrics: MetricRecorder, from: string, to: string, outcome: CallOutcome, durationMs: number): void {
  metrics.observe('service_call_duration_seconds', { from, to, outcome }, durationMs / 1000, RED_DURATION_BUCKETS_SECONDS);
}

/** A thrown error's outcome: a deadline (AbortSignal.timeout's TimeoutError, or the outbox's own) is a timeout. */
export function outcomeOfError(error: unknown): CallOutcome {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  return name === 'TimeoutError' || /did not answer within|timed? ?out/i.test(message) ? 'timeout' : 'error';
}
