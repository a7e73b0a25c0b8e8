import { describe, expect, it } from 'vitest';
import { addCounter, emptyBatch, observe } from '../../../shared/metrics/metric-batch';
import { opsMetricsView } from '../../../workers/gateway/ops/ops-metrics';

const BOUNDS = [0.01, 0.1, 1];

describe('opsMetricsView', () => {
  it('adds up every method and status of a route, counting 5xx apart, busiest route first', () => {
    const totals = emptyBatch();
    addCounter(totals, 'http_requests_total', { service: 'catalog', route: '/api/catalog/*', method: 'GET', status: '200' }, 7);
    addCounter(totals, 'http_requests_total', { service: 'catalog', route: '/api/catalog/*', method: 'POST', status: '503' }, 2);
    addCounter(totals, 'http_requests_total', { service: 'users', route: '/api/users/*', method: 'GET', status: '401' }, 3);
    observe(totals, 'http_request_duration_seconds', { service: 'catalog', route: '/api/catalog/*', method: 'GET' }, 0.005, BOUNDS);
    observe(totals, 'http_request_duration_seconds', { service: 'catalog', route: '/api/catalog/*', method: 'POST' }, 0.5, BOUNDS);

    const view = opsMetricsView(totals, Date.UTC(2026, 0, 1));
    expect(view.at).toBe('2026-01-01T00:00:00.000Z');
    expect(view.routes.map((r) => [r.service, r.requests, r.serverErrors])).toEqual([
      ['catalog', 9, 2],
      ['users', 3, 0],
    ]);
    expect(view.routes[0]?.durationSeconds).toEqual({ bounds: BOUNDS, counts: [1, 0, 1, 0], sum: 0.505, count: 2 });
  });

  it('gives hit and refused ratios per route, null before anything was counted', () => {
    const totals = emptyBatch();
    addCounter(totals, 'cache_requests_total', { route: '/api/catalog/*', result: 'hit' }, 6);
    addCounter(totals, 'cache_requests_total', { route: '/api/catalog/*', result: 'stale' }, 1);
    addCounter(totals, 'cache_requests_total', { route: '/api/catalog/*', result: 'miss' }, 3);
    // A bypass was never a lookup: it does not lower the hit ratio.
    addCounter(totals, 'cache_requests_total', { route: '/api/catalog/*', result: 'bypass' }, 50);
    addCounter(totals, 'cache_requests_total', { route: '/api/other/*', result: 'bypass' }, 1);
    addCounter(totals, 'rate_limit_decisions_total', { route: '/api/catalog/*', decision: 'allowed' }, 3);
    addCounter(totals, 'rate_limit_decisions_total', { route: '/api/catalog/*', decision: 'refused' }, 1);

    const view = opsMetricsView(totals, 0);
    expect(view.cache).toEqual([
      { route: '/api/catalog/*', hit: 6, stale: 1, miss: 3, bypass: 50, hitRatio: 0.7 },
      { route: '/api/other/*', hit: 0, stale: 0, miss: 0, bypass: 1, hitRatio: null },
    ]);
    expect(view.rateLimits).toEqual([{ route: '/api/catalog/*', allowed: 3, refused: 1, error: 0, refusedRatio: 0.25 }]);
  });
});
