// Types of histogram.js and traffic-window.js for the tests (test/browser/*.test.ts); not served (.assetsignore).
export interface Histogram {
  bounds: number[];
  counts: number[];
  count: number;
}
export function histogramDelta(after: Histogram, before?: Histogram | null): Histogram;
export function quantile(q: number, histogram: Histogram): number | null;
export function beyondBounds(q: number, histogram: Histogram): boolean;
