// Latency percentiles from two reads of a cumulative histogram: the difference is the histogram
// of the requests in between, and a percentile is read from it as Prometheus' histogram_quantile
// reads one (linear within the bucket that holds it).

/**
 * The histogram of what happened between `before` and `after` (same bounds), or `after` alone:
 * with no earlier read, after the buckets changed, or when any total went down. Totals only grow,
 * so a decrease means they were reset (the suite restarted) and all of `after` is new, as
 * Prometheus' rate() reads a counter reset; a difference would give negative counts.
 */
export function histogramDelta(after, before) {
  if (!before || before.bounds.join() !== after.bounds.join()) return after;
  if (after.count < before.count || after.counts.some((n, i) => n < (before.counts[i] ?? 0))) return after;
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
      // The +Inf bucket has no upper edge: its lower edge is the best answer there is (see beyondBounds).
      if (i >= bounds.length) return lower;
      return lower + (bounds[i] - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}

/**
 * Whether the q-quantile falls in the +Inf bucket: then quantile() answers the last bound, and the
 * truth is only "more than that", which is what the page must say.
 */
export function beyondBounds(q, { bounds, counts, count }) {
  const overflow = counts[bounds.length] ?? 0;
  return count > 0 && overflow > 0 && q * count > count - overflow;
}
