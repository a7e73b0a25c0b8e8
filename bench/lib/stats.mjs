// Small statistics shared by the benchmarks: medians of rounds, percentiles of
// latencies, and the number formatting the report uses.

/** Median of numbers (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of already sorted values (the same definition bench/gateway uses). */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** Sorts in place and returns p50 and p99. */
export function latencySummary(latencies) {
  latencies.sort((x, y) => x - y);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

export const fixed = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const ratio = (x, y, digits = 2) => fixed(x / y, digits);
