import { describe, expect, it } from 'vitest';
import { addCounter, emptyBatch, observe, setGauge } from '../../../shared/metrics/metric-batch';
import { renderPrometheus, type MetricDefinition } from '../../../shared/metrics/prometheus-text';

const definitions: Record<string, MetricDefinition> = {
  http_requests_total: { type: 'counter', help: 'Requests served.' },
  http_request_duration_seconds: { type: 'histogram', help: 'Request latency.' },
  isolates: { type: 'gauge', help: 'Isolates seen.' },
};

describe('renderPrometheus', () => {
  it('renders a counter under its HELP and TYPE headers', () => {
    const totals = emptyBatch();
    addCounter(totals, 'http_requests_total', { route: '/a', status: '200' }, 3);
    expect(renderPrometheus(totals, { http_requests_total: definitions.http_requests_total! })).toBe(
      [
        '# HELP http_requests_total Requests served.',
        '# TYPE http_requests_total counter',
        'http_requests_total{route="/a",status="200"} 3',
        '',
      ].join('\n'),
    );
  });

  it('renders a histogram with cumulative buckets, a +Inf bucket equal to _count, _sum and _count', () => {
    const totals = emptyBatch();
    const bounds = [0.1, 0.5, 1];
    for (const value of [0.05, 0.1, 0.3, 0.7, 0.9, 4]) observe(totals, 'http_request_duration_seconds', { route: '/a' }, value, bounds);
    const text = renderPrometheus(totals, { http_request_duration_seconds: definitions.http_request_duration_seconds! });
    expect(text.split('\n')).toEqual([
      '# HELP http_request_duration_seconds Request latency.',
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_bucket{route="/a",le="0.1"} 2',
      'http_request_duration_seconds_bucket{route="/a",le="0.5"} 3',
      'http_request_duration_seconds_bucket{route="/a",le="1"} 5',
      'http_request_duration_seconds_bucket{route="/a",le="+Inf"} 6',
      `http_request_duration_seconds_sum{route="/a"} ${0.05 + 0.1 + 0.3 + 0.7 + 0.9 + 4}`,
      'http_request_duration_seconds_count{route="/a"} 6',
      '',
    ]);
  });

  it('renders a histogram without labels with only the le label', () => {
    const totals = emptyBatch();
    observe(totals, 'lat', {}, 2, [1]);
    expect(renderPrometheus(totals, {})).toBe('lat_bucket{le="1"} 0\nlat_bucket{le="+Inf"} 1\nlat_sum 2\nlat_count 1\n');
  });

  it('renders gauges, and non-finite values in Prometheus spelling', () => {
    const totals = emptyBatch();
    setGauge(totals, 'isolates', {}, 4);
    setGauge(totals, 'pos', {}, Infinity);
    setGauge(totals, 'neg', {}, -Infinity);
    setGauge(totals, 'nan', {}, NaN);
    const lines = renderPrometheus(totals, { isolates: definitions.isolates! }).trimEnd().split('\n');
    expect(lines).toEqual(['# HELP isolates Isolates seen.', '# TYPE isolates gauge', 'isolates 4', 'nan NaN', 'neg -Inf', 'pos +Inf']);
  });

  it('still writes the headers of a defined metric with no series yet', () => {
    const text = renderPrometheus(emptyBatch(), definitions);
    expect(text).toBe(
      [
        '# HELP http_request_duration_seconds Request latency.',
        '# TYPE http_request_duration_seconds histogram',
        '# HELP http_requests_total Requests served.',
        '# TYPE http_requests_total counter',
        '# HELP isolates Isolates seen.',
        '# TYPE isolates gauge',
        '',
      ].join('\n'),
    );
  });

  it('groups every series under its own metric header, metrics sorted by name and series sorted within', () => {
    const totals = emptyBatch();
    addCounter(totals, 'http_requests_total', { route: '/b' }, 1);
    setGauge(totals, 'isolates', {}, 2);
    addCounter(totals, 'http_requests_total', { route: '/a' }, 5);
    observe(totals, 'http_request_duration_seconds', { route: '/b' }, 0.2, [1]);
    observe(totals, 'http_request_duration_seconds', { route: '/a' }, 3, [1]);
    const lines = renderPrometheus(totals, definitions).trimEnd().split('\n');
    expect(lines).toEqual([
      '# HELP http_request_duration_seconds Request latency.',
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_bucket{route="/a",le="1"} 0',
      'http_request_duration_seconds_bucket{route="/a",le="+Inf"} 1',
      'http_request_duration_seconds_sum{route="/a"} 3',
      'http_request_duration_seconds_count{route="/a"} 1',
      'http_request_duration_seconds_bucket{route="/b",le="1"} 1',
      'http_request_duration_seconds_bucket{route="/b",le="+Inf"} 1',
      'http_request_duration_seconds_sum{route="/b"} 0.2',
      'http_request_duration_seconds_count{route="/b"} 1',
      '# HELP http_requests_total Requests served.',
      '# TYPE http_requests_total counter',
      'http_requests_total{route="/a"} 5',
      'http_requests_total{route="/b"} 1',
      '# HELP isolates Isolates seen.',
      '# TYPE isolates gauge',
      'isolates 2',
    ]);
  });

  it('gives the same text whatever order the series were recorded in', () => {
    const forward = emptyBatch();
    const backward = emptyBatch();
    const routes = ['/a', '/b', '/c', '/d'];
    for (const route of routes) addCounter(forward, 'http_requests_total', { route }, route.length);
    for (const route of [...routes].reverse()) addCounter(backward, 'http_requests_total', { route }, route.length);
    expect(renderPrometheus(backward, definitions)).toBe(renderPrometheus(forward, definitions));
  });

  it('renders a series without a definition with no header', () => {
    const totals = emptyBatch();
    addCounter(totals, 'undeclared_total', {}, 1);
    expect(renderPrometheus(totals, {})).toBe('undeclared_total 1\n');
  });

  it('keeps escaped label values as they are', () => {
    const totals = emptyBatch();
    addCounter(totals, 'c', { path: 'say "hi"\n' }, 1);
    expect(renderPrometheus(totals, {})).toBe('c{path="say \\"hi\\"\\n"} 1\n');
  });
});
