// Types of histogram.js for the tests (test/browser/histogram.test.ts); not served (.assetsignore).
export interface Histogram {
  bounds: number[];
  counts: number[];
  count: number;
}
export function histogramDelta(after: Histogram, before?: Histogram | null): Histogram;
export function quantile(q: number, histogram: Histogram): number | null;
