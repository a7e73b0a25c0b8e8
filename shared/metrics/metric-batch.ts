/**
 * A batch of metric deltas (or, once merged, totals), keyed by series. Pure data: it is built in
 * an isolate, sent over RPC, merged by addition in the aggregating Durable Object and rendered
 * from there, so it must be plain JSON with no classes.
 */

export type Labels = Record<string, string>;

export interface HistogramData {
  /** Upper bounds, ascending; +Inf is implicit as the last bucket. */
  bounds: number[];
  /** Non-cumulative counts, one per bound plus one for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export interface MetricBatch {
  /** Series key (`name{a="x"}`) → delta. */
  counters: Record<string, number>;
  /** Series key → histogram delta. */
  histograms: Record<string, HistogramData>;
  /** Series key → last value (gauges are set, not added). */
  gauges: Record<string, number>;
}

export const emptyBatch = (): MetricBatch => ({ counters: {}, histograms: {}, gauges: {} });

export const isEmptyBatch = (batch: MetricBatch): boolean =>
  Object.keys(batch.counters).length === 0 && Object.keys(batch.histograms).length === 0 && Object.keys(batch.gauges).length === 0;

/** Prometheus label-value escaping: backslash, double quote and newline. */
// One test before three replaces: label values almost never hold these (every request makes a few keys).
const NEEDS_ESCAPE = /[\\"\n]/;
const escapeLabelValue = (value: string) =>
  NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;

/** Canonical series key: labels sorted by name, so the same series always has the same key. */
export function seriesKey(name: string, labels: Labels = {}): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((label) => `${label}="${escapeLabelValue(labels[label] ?? '')}"`).join(',')}}`;
}

/** Splits a series key back into its metric name and its `a="x",b="y"` label text. */
export function splitSeriesKey(key: string): { name: string; labelText: string } {
  const brace = key.indexOf('{');
  return brace === -1 ? { name: key, labelText: '' } : { name: key.slice(0, brace), labelText: key.slice(brace + 1, -1) };
}

/** The inverse of `seriesKey`: a key's metric name and its labels, escapes undone. */
export function parseSeriesKey(key: string): { name: string; labels: Labels } {
  const { name, labelText } = splitSeriesKey(key);
  const labels: Labels = {};
  // `label="value"` pairs; a value may hold escaped quotes, backslashes and newlines.
  for (const match of labelText.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return { name, labels };
}

export function addCounter(batch: MetricBatch, name: string, labels: Labels, by = 1): void {
  const key = seriesKey(name, labels);
  batch.counters[key] = (batch.counters[key] ?? 0) + by;
}

export function setGauge(batch: MetricBatch, name: string, labels: Labels, value: number): void {
  batch.gauges[seriesKey(name, labels)] = value;
}

export function observe(batch: MetricBatch, name: string, labels: Labels, value: number, bounds: readonly number[]): void {
  const key = seriesKey(name, labels);
  let histogram = batch.histograms[key];
  if (!histogram) {
    histogram = { bounds: [...bounds], counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
    batch.histograms[key] = histogram;
  }
  // The first bucket that holds the value, else the +Inf one (NaN included); a loop, not findIndex's closure per call.
  const { bounds: held } = histogram;
  let index = 0;
  while (index < held.length && !(value <= held[index]!)) index++;
  histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
  histogram.sum += value;
  histogram.count += 1;
}

/** Adds `from` into `into` (counters and histograms add; gauges take the newer value). */
export function mergeBatch(into: MetricBatch, from: MetricBatch): MetricBatch {
  for (const [key, delta] of Object.entries(from.counters)) into.counters[key] = (into.counters[key] ?? 0) + delta;
  for (const [key, value] of Object.entries(from.gauges)) into.gauges[key] = value;
  for (const [key, delta] of Object.entries(from.histograms)) {
    const total = into.histograms[key];
    if (!total || total.bounds.join() !== delta.bounds.join()) {
      // First sight of the series, or its buckets were redefined by a deploy: start over from the delta.
      into.histograms[key] = { bounds: [...delta.bounds], counts: [...delta.counts], sum: delta.sum, count: delta.count };
      continue;
    }
    delta.counts.forEach((count, i) => (total.counts[i] = (total.counts[i] ?? 0) + count));
    total.sum += delta.sum;
    total.count += delta.count;
  }
  return into;
}
