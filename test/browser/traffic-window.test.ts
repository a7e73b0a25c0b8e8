import { describe, expect, it } from 'vitest';
import type { MetricsRead } from '../../workers/gateway/public/ops/traffic-window.js';
import { counterIncrease, readOrder, routeWindows } from '../../workers/gateway/public/ops/traffic-window.js';

// The dashboard's request rates and latency windows (workers/gateway/public/ops/traffic-window.js),
// in Node: what it makes of reads of /_ops/metrics that come close together, out of order, or
// across a restart of the suite.
const bounds = [0.01, 0.1, 1];
const read = (atMs: number, requests: number, counts: number[]): MetricsRead => ({
  at: new Date(atMs).toISOString(),
  routes: [{ service: 'catalog', route: '/api/catalog/*', requests, durationSeconds: { bounds, counts, count: counts.reduce((a, b) => a + b, 0) } }],
});
const T0 = Date.UTC(2026, 0, 1);

describe('readOrder', () => {
  it('compares only a later read at least minSeconds after the one before', () => {
    const before = read(T0, 10, [10, 0, 0, 0]);
    expect(readOrder(null, before, 1)).toBe('first');
    expect(readOrder(before, read(T0 + 2_000, 20, [20, 0, 0, 0]), 1)).toBe('window');
    // A click's read a few ms after a poll would make a spike out of a handful of requests.
    expect(readOrder(before, read(T0 + 5, 11, [11, 0, 0, 0]), 1)).toBe('short');
    // Answered out of order, or at the same instant: time must not run backwards.
    expect(readOrder(before, read(T0 - 300, 9, [9, 0, 0, 0]), 1)).toBe('stale');
    expect(readOrder(before, read(T0, 10, [10, 0, 0, 0]), 1)).toBe('stale');
  });
});

describe('counterIncrease', () => {
  it('is the growth of a total, or the whole later total after a reset', () => {
    expect(counterIncrease(15, 10)).toBe(5);
    expect(counterIncrease(15, undefined)).toBe(15);
    expect(counterIncrease(3, 10)).toBe(3);
  });
});

describe('routeWindows', () => {
  it('is the rate and percentiles of the requests between the two reads', () => {
    const before = read(T0, 100, [100, 0, 0, 0]);
    const after = read(T0 + 2_000, 110, [100, 0, 10, 0]);
    const catalog = routeWindows(before, after).get('catalog /api/catalog/*');
    expect(catalog?.rate).toBe(5);
    // All 10 requests of the window took 0.1–1 s; the all-time totals would say under 10 ms.
    expect(catalog?.p50).toBeGreaterThan(100);
    expect(catalog?.p50).toBeLessThanOrEqual(1000);
    expect(catalog?.p99Beyond).toBe(false);
  });

  it('never goes negative across a reset of the totals (the suite restarted with the page open)', () => {
    const before = read(T0, 500, [400, 100, 0, 0]);
    const after = read(T0 + 2_000, 4, [0, 0, 2, 2]);
    const catalog = routeWindows(before, after).get('catalog /api/catalog/*');
    expect(catalog?.rate).toBe(2);
    expect(catalog?.p50).toBeGreaterThan(0);
    // Two of four past 1 s: p99 is "more than 1000 ms".
    expect(catalog?.p99).toBe(1000);
    expect(catalog?.p99Beyond).toBe(true);
  });

  it('counts a route first seen in the later read from zero', () => {
    const before: MetricsRead = { at: new Date(T0).toISOString(), routes: [] };
    const catalog = routeWindows(before, read(T0 + 4_000, 8, [8, 0, 0, 0])).get('catalog /api/catalog/*');
    expect(catalog?.rate).toBe(2);
    expect(catalog?.p50).toBeGreaterThanOrEqual(0);
  });
});
