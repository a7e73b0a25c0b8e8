// The traffic numbers between two reads of GET /_ops/metrics, which holds only running totals:
// per route the request rate and p50/p99 latency of the requests in between. Plain functions with
// no DOM, so they are tested in Node (test/browser/traffic-window.test.ts).
import { beyondBounds, histogramDelta, quantile } from './histogram.js';

export const routeKey = (r) => `${r.service} ${r.route}`;
const ms = (seconds) => (seconds === null ? null : Math.round(seconds * 10000) / 10);

/**
 * How a new read stands to the one before it:
 * - 'first': there is none, and totals since the start are no window (the page shows no number);
 * - 'stale': it is not later (answered out of order): drop it, or time would run backwards;
 * - 'short': it is less than `minSeconds` later: a handful of requests over a few ms would read as
 *   a spike, so wait for a later read to compare with the same earlier one;
 * - 'window': compare the two.
 */
export function readOrder(before, after, minSeconds) {
  if (!before) return 'first';
  const elapsed = (Date.parse(after.at) - Date.parse(before.at)) / 1000;
  if (!(elapsed > 0)) return 'stale';
  return elapsed < minSeconds ? 'short' : 'window';
}

/** How much a running total grew; one that went down was reset (the suite restarted), so all of `after` is new, as Prometheus' rate() reads it. */
export const counterIncrease = (after, before) => (before === undefined || after < before ? after : after - before);

/**
 * Per route key, `{rate, p50, p99, p50Beyond, p99Beyond}` between two reads in 'window' order:
 * requests a second, latency in ms, and whether a percentile lies past the last bucket (then it is
 * that bucket's bound, and the truth is only "more than that").
 */
export function routeWindows(before, after) {
  const elapsed = (Date.parse(after.at) - Date.parse(before.at)) / 1000;
  const earlier = new Map(before.routes.map((r) => [routeKey(r), r]));
  return new Map(after.routes.map((route) => {
    const last = earlier.get(routeKey(route));
    const window = histogramDelta(route.durationSeconds, last?.durationSeconds);
    return [routeKey(route), {
      rate: counterIncrease(route.requests, last?.requests) / elapsed,
      p50: ms(quantile(0.5, window)),
      p99: ms(quantile(0.99, window)),
      p50Beyond: beyondBounds(0.5, window),
      p99Beyond: beyondBounds(0.99, window),
    }];
  }));
}
