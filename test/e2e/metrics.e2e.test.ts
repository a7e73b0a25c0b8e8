import { describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { callWorker } from '../support/call-worker';

/** The value of one series in a Prometheus text page, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const PRODUCTS_200 = 'http_requests_total{method="GET",route="/api/catalog/*",service="catalog",status="200"}';
// A path no route claims falls to the strangler fig's legacy route (the not-found handler): with no
// monolith configured, as here, it answers 404 under that route's labels.
const UNMATCHED_404 = 'http_requests_total{method="GET",route="/*",service="legacy",status="404"}';
const DURATION_COUNT = 'http_request_duration_seconds_count{method="GET",route="/api/catalog/*",service="catalog"}';

describe('/metrics', () => {
  it('is Prometheus text with HELP and TYPE for every metric', async () => {
    const response = await callWorker(gateway, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await response.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('counts proxied requests by service, route pattern, method and status', async () => {
    const before = await (await callWorker(gateway, '/metrics')).text();
    await callWorker(gateway, '/api/catalog/products');
    await callWorker(gateway, '/api/catalog/products?limit=2');
    await callWorker(gateway, '/no/such/route');
    const after = await (await callWorker(gateway, '/metrics')).text();

    expect(sample(after, PRODUCTS_200) - sample(before, PRODUCTS_200)).toBe(2);
    expect(sample(after, UNMATCHED_404) - sample(before, UNMATCHED_404)).toBe(1);
    expect(sample(after, DURATION_COUNT) - sample(before, DURATION_COUNT)).toBe(2);
    // Concrete paths never become labels: one series per route, whatever the query or id.
    expect(after).not.toContain('route="/api/catalog/products');
  });

  it('keeps histogram buckets cumulative and ending at the count', async () => {
    await callWorker(gateway, '/api/catalog/products');
    const text = await (await callWorker(gateway, '/metrics')).text();
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('http_request_duration_seconds_bucket{method="GET",route="/api/catalog/*",service="catalog"'))
      .map((l) => Number(l.split(' ').at(-1)));
    expect(buckets.length).toBeGreaterThan(2);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(buckets.at(-1)).toBe(sample(text, DURATION_COUNT));
  });
});
