// Latency percentiles from two reads of a cumulative histogram: the difference is the histogram
// of the requests in between, and a percentile is read from it as Prometheus' histogram_quantile
// reads one (linear within the bucket that holds it).

/** The histogram of what happened between `before` and `after` (same bounds), or `after` alone. */
export function histogramDelta(after, before) {
  if (!before || before.bounds.join() !== after.bounds.join()) return after;
  return { bounds: after.bounds, counts: after.counts.map((n, i) => n - (before.counts[i] ?? 0)), count: after.count - before.count };
}

/** The q-quantile (0–1) in the histogram's unit, or null with nothing in it. */
export function quantile(q, { bounds, counts, count }) {
  if (!count) return null;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i] ?? 0;
    if (seen + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      // The +Inf bucket has no upper edge: its lower edge is the best answer there is.
      if (i >= bounds.length) return lower;
      return lower + (bounds[i] - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}
