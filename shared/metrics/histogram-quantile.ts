import type { HistogramData } from './metric-batch';

/**
 * What was observed between two reads of a cumulative histogram (same bounds): `after` minus
 * `before`. `after` alone when there is no earlier read, the bounds differ, or a total went down
 * (the totals were reset: all of `after` is new, as Prometheus' rate() reads a counter reset).
 */
export function histogramDelta(after: HistogramData, before?: HistogramData): HistogramData {
  if (!before || before.bounds.join() !== after.bounds.join()) return after;
  if (after.count < before.count || after.counts.some((n, i) => n < (before.counts[i] ?? 0))) return after;
  return { bounds: after.bounds, counts: after.counts.map((n, i) => n - (before.counts[i] ?? 0)), sum: after.sum - before.sum, count: after.count - before.count };
}

/**
 * The q-quantile (0 to 1) of a histogram, in its unit, as Prometheus' histogram_quantile reads
 * one: linear within the bucket that holds it, the first bucket starting at 0; in the +Inf bucket
 * (no upper edge) the last finite bound, which understates it. Null with nothing observed. The
 * dashboard's page does the same sum in its own script (workers/gateway/public/ops/histogram.js).
 */
export function histogramQuantile(q: number, { bounds, counts, count }: HistogramData): number | null {
  if (count <= 0) return null;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i] ?? 0;
    if (inBucket > 0 && seen + inBucket >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (i >= bounds.length) return lower;
      return lower + (bounds[i]! - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds.at(-1) ?? null;
}
