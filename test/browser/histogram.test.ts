import { describe, expect, it } from 'vitest';
import { beyondBounds, histogramDelta, quantile } from '../../workers/gateway/public/ops/histogram.js';

// The dashboard's latency percentiles (workers/gateway/public/ops/histogram.js), in Node: plain ES
// module code with no DOM.
const bounds = [0.01, 0.1, 1];

describe('quantile', () => {
  it('interpolates within the bucket that holds the rank, as histogram_quantile does', () => {
    // 10 requests: 4 under 10 ms, 4 between 10 and 100 ms, 2 between 100 ms and 1 s.
    const h = { bounds, counts: [4, 4, 2, 0], count: 10 };
    expect(quantile(0.2, h)).toBeCloseTo(0.005); // rank 2 of the first 4: halfway to 10 ms
    expect(quantile(0.5, h)).toBeCloseTo(0.01 + 0.09 * (1 / 4));
    expect(quantile(0.99, h)).toBeCloseTo(0.1 + 0.9 * (1.9 / 2));
  });

  it('answers the +Inf bucket with its lower edge, and nothing with null', () => {
    expect(quantile(0.99, { bounds, counts: [0, 0, 0, 5], count: 5 })).toBe(1);
    expect(quantile(0.5, { bounds, counts: [0, 0, 0, 0], count: 0 })).toBeNull();
  });
});

describe('beyondBounds', () => {
  it('says when the quantile lies in the +Inf bucket, where quantile() can only answer the last bound', () => {
    // 100 requests, 2 past 1 s: p99 is past the last bound, p50 is not.
    const h = { bounds, counts: [90, 8, 0, 2], count: 100 };
    expect(beyondBounds(0.99, h)).toBe(true);
    expect(quantile(0.99, h)).toBe(1);
    expect(beyondBounds(0.5, h)).toBe(false);
    // A p99 that ends exactly on the last bound is that bound, not past it.
    expect(beyondBounds(0.99, { bounds, counts: [0, 0, 99, 1], count: 100 })).toBe(false);
    expect(beyondBounds(0.99, { bounds, counts: [0, 0, 0, 0], count: 0 })).toBe(false);
  });
});

describe('histogramDelta', () => {
  it('is what happened between two reads of a cumulative histogram', () => {
    const before = { bounds, counts: [4, 1, 0, 0], count: 5 };
    const after = { bounds, counts: [4, 1, 3, 0], count: 8 };
    const window = histogramDelta(after, before);
    expect(window).toEqual({ bounds, counts: [0, 0, 3, 0], count: 3 });
    // The requests of the window were all slow: the window's median says so, the totals' would not.
    expect(quantile(0.5, window)).toBeGreaterThan(0.1);
    expect(quantile(0.5, after)).toBeLessThanOrEqual(0.01);
  });

  it('is the later read alone with no earlier one, or after the buckets changed', () => {
    const after = { bounds, counts: [1, 0, 0, 0], count: 1 };
    expect(histogramDelta(after, null)).toBe(after);
    expect(histogramDelta(after, { bounds: [0.5], counts: [9, 9], count: 18 })).toBe(after);
  });

  it('reads any total that went down as a reset: the later read alone, never a negative count', () => {
    // The suite restarted between two reads: fewer requests in all, or fewer in one bucket.
    const before = { bounds, counts: [40, 10, 0, 0], count: 50 };
    const afterRestart = { bounds, counts: [2, 0, 1, 0], count: 3 };
    expect(histogramDelta(afterRestart, before)).toBe(afterRestart);
    const shifted = { bounds, counts: [39, 10, 5, 0], count: 54 };
    expect(histogramDelta(shifted, before)).toBe(shifted);
    expect(quantile(0.5, histogramDelta(afterRestart, before))).toBeGreaterThanOrEqual(0);
  });
});
