import { parseSeriesKey, type MetricBatch } from '../metrics/metric-batch';
import type { AlertRule } from './alert-rules';

/**
 * What one evaluation reads for a rule: a gauge-like value now (`now`), or, for the windowed
 * kinds, a vector of cumulative totals (`totals`) whose increase over the window gives the value.
 * Pure: the evaluator (a Durable Object) keeps the samples and the time.
 */
export type Reading = { now: number | null } | { totals: number[]; bounds?: number[] };

/** A sample of a windowed rule's totals at a time (epoch ms). */
export interface Sample {
  at: number;
  totals: number[];
}

const sumSeries = (series: Record<string, number>, name: string, match: (labels: Record<string, string>) => boolean) => {
  let sum = 0;
  let seen = false;
  for (const [key, value] of Object.entries(series)) {
    const parsed = parseSeriesKey(key);
    if (parsed.name !== name || !match(parsed.labels)) continue;
    sum += value;
    seen = true;
  }
  return seen ? sum : null;
};

/** Reads what `rule` needs from the totals. */
export function measure(rule: AlertRule, totals: MetricBatch): Reading {
  switch (rule.kind) {
    case 'breaker_open': {
      // The gauge: 0 closed, 1 half-open, 2 open; the worst matching breaker.
      let worst: number | null = null;
      for (const [key, value] of Object.entries(totals.gauges)) {
        const { name, labels } = parseSeriesKey(key);
        if (name !== 'circuit_breaker_state' || (rule.upstream !== undefined && labels.upstream !== rule.upstream)) continue;
        worst = Math.max(worst ?? 0, value);
      }
      return { now: worst };
    }
    case 'dlq_not_empty': {
      const dlq = sumSeries(totals.gauges, 'qstash_dlq_messages', () => true);
      const parked = sumSeries(totals.gauges, 'outbox_dead_total', () => true);
      return { now: dlq === null && parked === null ? null : (dlq ?? 0) + (parked ?? 0) };
    }
    case 'saga_stuck':
      return { now: sumSeries(totals.gauges, 'saga_total', (labels) => labels.status === 'STUCK') ?? 0 };
    case 'route_5xx_ratio': {
      const onRoute = (labels: Record<string, string>) => labels.route === rule.route;
      const all = sumSeries(totals.counters, 'http_requests_total', onRoute) ?? 0;
      const failed = sumSeries(totals.counters, 'http_requests_total', (labels) => onRoute(labels) && (labels.status ?? '').startsWith('5')) ?? 0;
      return { totals: [all, failed] };
    }
    case 'route_p99': {
      // Every method's histogram on the route, added bucket by bucket (same bounds for all).
      let bounds: number[] | undefined;
      let counts: number[] = [];
      for (const [key, histogram] of Object.entries(totals.histograms)) {
        const { name, labels } = parseSeriesKey(key);
        if (name !== 'http_request_duration_seconds' || labels.route !== rule.route) continue;
        if (bounds && bounds.join() !== histogram.bounds.join()) continue;
        bounds ??= [...histogram.bounds];
        counts = histogram.counts.map((n, i) => n + (counts[i] ?? 0));
      }
      return bounds ? { totals: counts, bounds } : { totals: [] };
    }
    case 'synthetic_failed':
      return { totals: [sumSeries(totals.counters, 'synthetic_check_total', (labels) => labels.result === 'failure') ?? 0] };
  }
}

/**
 * The increase of `current` since the latest sample at least `windowMs` old (else the oldest
 * kept), as Prometheus' `increase` over a range; null without an earlier sample. A counter that
 * went down (its store was reset) counts from zero.
 */
export function increase(samples: Sample[], current: Sample, windowMs: number): number[] | null {
  const earlier = samples.filter((sample) => sample.at < current.at && sample.totals.length === current.totals.length);
  if (earlier.length === 0) return null;
  const old = [...earlier].reverse().find((sample) => sample.at <= current.at - windowMs) ?? earlier[0]!;
  const reset = current.totals.some((value, i) => value < (old.totals[i] ?? 0));
  return current.totals.map((value, i) => (reset ? value : value - (old.totals[i] ?? 0)));
}

/**
 * The q-quantile of a histogram's bucket counts (non-cumulative, the last one +Inf), as
 * Prometheus' histogram_quantile: linear within the bucket, the highest finite bound past it.
 */
export function quantile(q: number, bounds: number[], counts: number[]): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (cumulative + count >= rank && count > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - cumulative) / count);
    }
    cumulative += count;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** Whether a rule's condition holds, and the value shown with it. */
export interface Verdict {
  active: boolean;
  value: number | null;
}

/** Judges a rule from its reading and, for the windowed kinds, the increase over its window. */
export function judge(rule: AlertRule, reading: Reading, windowIncrease: number[] | null): Verdict {
  if ('now' in reading) {
    const value = reading.now;
    const active = value !== null && (rule.kind === 'breaker_open' ? value >= 1 : value > 0);
    return { active, value };
  }
  if (!windowIncrease) return { active: false, value: null };
  switch (rule.kind) {
    case 'route_5xx_ratio': {
      const [all = 0, failed = 0] = windowIncrease;
      if (all === 0) return { active: false, value: null };
      const ratio = failed / all;
      return { active: all >= rule.minRequests && ratio > rule.threshold, value: ratio };
    }
    case 'route_p99': {
      const requests = windowIncrease.reduce((sum, n) => sum + n, 0);
      const p99 = reading.bounds ? quantile(0.99, reading.bounds, windowIncrease) : null;
      return { active: p99 !== null && requests >= rule.minRequests && p99 > rule.thresholdSeconds, value: p99 };
    }
    case 'synthetic_failed': {
      const failures = windowIncrease[0] ?? 0;
      return { active: failures > 0, value: failures };
    }
    default:
      return { active: false, value: null };
  }
}

/** The window of a windowed rule in ms; 0 for the gauge-like kinds (no samples kept). */
export const windowMsOf = (rule: AlertRule): number => ('windowSeconds' in rule ? rule.windowSeconds * 1000 : 0);
