import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile } from '../../../shared/metrics/histogram-quantile';

const bounds = [0.1, 0.5, 1];

describe('histogramQuantile', () => {
  it('interpolates within the bucket that holds the rank, as histogram_quantile does', () => {
    expect(histogramQuantile(0.5, { bounds, counts: [0, 10, 0, 0], sum: 3, count: 10 })).toBeCloseTo(0.3);
    expect(histogramQuantile(0.99, { bounds, counts: [99, 0, 1, 0], sum: 10, count: 100 })).toBeCloseTo(0.1);
  });

  it('answers the last bound for the +Inf bucket, and null with nothing observed', () => {
    expect(histogramQuantile(0.99, { bounds, counts: [0, 0, 0, 5], sum: 50, count: 5 })).toBe(1);
    expect(histogramQuantile(0.99, { bounds, counts: [0, 0, 0, 0], sum: 0, count: 0 })).toBeNull();
  });

  it('takes the difference of two reads, or the later one after a reset', () => {
    const before = { bounds, counts: [1, 1, 0, 0], sum: 0.5, count: 2 };
    const after = { bounds, counts: [1, 3, 0, 0], sum: 1.5, count: 4 };
    expect(histogramDelta(after, before)).toEqual({ bounds, counts: [0, 2, 0, 0], sum: 1, count: 2 });
    expect(histogramDelta(before, after)).toBe(before);
  });
});
