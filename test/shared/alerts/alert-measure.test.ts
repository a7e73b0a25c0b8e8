import { describe, expect, it } from 'vitest';
import { increase, judge, measure, quantile } from '../../../shared/alerts/alert-measure';
import { alertRuleSchema } from '../../../shared/alerts/alert-rules';
import { addCounter, emptyBatch, observe, setGauge } from '../../../shared/metrics/metric-batch';

const rule = (input: unknown) => alertRuleSchema.parse(input);

describe('alert measurements', () => {
  it('reads the worst matching breaker, 0 closed to 2 open', () => {
    const totals = emptyBatch();
    setGauge(totals, 'circuit_breaker_state', { upstream: 'catalog' }, 2);
    setGauge(totals, 'circuit_breaker_state', { upstream: 'orders' }, 0);
    expect(measure(rule({ name: 'a', kind: 'breaker_open', upstream: 'orders' }), totals)).toEqual({ now: 0 });
    const any = rule({ name: 'b', kind: 'breaker_open' });
    expect(measure(any, totals)).toEqual({ now: 2 });
    expect(judge(any, { now: 1 }, null).active).toBe(true); // half-open is not closed yet
  });

  it('adds dead letters and parked outbox rows, and counts STUCK sagas only', () => {
    const totals = emptyBatch();
    setGauge(totals, 'qstash_dlq_messages', {}, 0);
    setGauge(totals, 'outbox_dead_total', { service: 'orders' }, 2);
    setGauge(totals, 'saga_total', { status: 'STUCK' }, 1);
    setGauge(totals, 'saga_total', { status: 'CANCELLED' }, 9);
    expect(measure(rule({ name: 'd', kind: 'dlq_not_empty' }), totals)).toEqual({ now: 2 });
    expect(measure(rule({ name: 's', kind: 'saga_stuck' }), totals)).toEqual({ now: 1 });
  });

  it("takes a route's 5xx ratio from the increase over the window, and needs minRequests", () => {
    const ratio = rule({ name: 'r', kind: 'route_5xx_ratio', route: '/api/orders/*', threshold: 0.1, windowSeconds: 60, minRequests: 10 });
    const totals = emptyBatch();
    addCounter(totals, 'http_requests_total', { route: '/api/orders/*', service: 'orders', method: 'POST', status: '202' }, 90);
    addCounter(totals, 'http_requests_total', { route: '/api/orders/*', service: 'orders', method: 'POST', status: '503' }, 10);
    addCounter(totals, 'http_requests_total', { route: '/api/catalog/*', service: 'catalog', method: 'GET', status: '500' }, 50);
    const reading = measure(ratio, totals);
    expect(reading).toEqual({ totals: [100, 10] });
    // 30 more requests in the window, 6 of them 5xx: 20%.
    const windowed = increase([{ at: 0, totals: [100, 10] }], { at: 60_000, totals: [130, 16] }, 60_000);
    expect(windowed).toEqual([30, 6]);
    expect(judge(ratio, reading, windowed)).toEqual({ active: true, value: 0.2 });
    expect(judge(ratio, reading, [5, 5]).active).toBe(false); // under minRequests
    expect(judge(ratio, reading, null).active).toBe(false); // no earlier sample yet
  });

  it('measures increase from the latest sample at least a window old, and from zero after a reset', () => {
    const samples = [{ at: 0, totals: [1] }, { at: 30_000, totals: [5] }, { at: 50_000, totals: [8] }];
    expect(increase(samples, { at: 60_000, totals: [10] }, 30_000)).toEqual([5]);
    expect(increase(samples, { at: 60_000, totals: [3] }, 30_000)).toEqual([3]);
  });

  it("computes a route's p99 as histogram_quantile does", () => {
    const bounds = [0.1, 0.5, 1];
    expect(quantile(0.5, bounds, [10, 0, 0, 0])).toBeCloseTo(0.05);
    expect(quantile(0.99, bounds, [0, 0, 100, 0])).toBeCloseTo(0.995);
    expect(quantile(0.99, bounds, [0, 0, 0, 5])).toBe(1);
    expect(quantile(0.99, bounds, [0, 0, 0, 0])).toBeNull();
    const p99 = rule({ name: 'p', kind: 'route_p99', route: '/api/catalog/*', thresholdSeconds: 0.5, minRequests: 1 });
    const totals = emptyBatch();
    for (let i = 0; i < 10; i++) observe(totals, 'http_request_duration_seconds', { route: '/api/catalog/*', method: 'GET', service: 'catalog' }, 0.8, bounds);
    const reading = measure(p99, totals);
    expect(reading).toEqual({ totals: [0, 0, 10, 0], bounds });
    expect(judge(p99, reading, [0, 0, 10, 0]).active).toBe(true);
  });

  it('refuses rules that are not well formed', () => {
    expect(() => rule({ name: 'x', kind: 'route_p99', route: '/api/catalog/*' })).toThrow();
    expect(() => rule({ name: 'has spaces', kind: 'saga_stuck' })).toThrow();
    expect(() => rule({ name: 'x', kind: 'saga_stuck', extra: 1 })).toThrow();
  });
});
