import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { SpanStatus } from '../../../shared/observability/span';
import gateway from '../../../workers/gateway/index';
import { callWorker, testEnv } from '../../support/call-worker';
import { captureSpansEachTest, clientSpansOf, type CapturedSpan } from '../../support/span-capture';

// Every call the gateway makes to a service is a CLIENT span of the gateway's request
// (shared/observability/client-span.ts): a proxied attempt, a BFF part, an /_ops call, a
// readiness check. The service continues the trace from that span.

const admin = { authorization: 'Bearer test-admin-token' };

/** A service behind the real service-token check that answers `answer` and keeps each call's traceparent. */
function serviceStub(service: string, answer: () => Response) {
  const traceparents: (string | null)[] = [];
  const app = createServiceApp({ service, verifyServiceToken: true });
  app.all('*', (c) => {
    traceparents.push(c.req.header('traceparent') ?? null);
    return answer();
  });
  return { traceparents, fetcher: { fetch: (request: Request) => app.fetch(request, env, createExecutionContext()) } as unknown as Fetcher };
}

/** The `traceparent` a call made inside `span` carries. */
const traceparentOf = (span: CapturedSpan) => `00-${span.traceId}-${span.spanId}-01`;

const capture = captureSpansEachTest();

describe("the gateway's calls to services are CLIENT spans of its request", () => {
  it('an /_ops call: GET orders under the operator\'s GET /_ops/sagas, and the orders service continues from it', async () => {
    const orders = serviceStub('orders', () => Response.json({ items: [] }));
    const response = await callWorker(gateway, '/_ops/sagas', { headers: admin }, { ORDERS: orders.fetcher, ...capture.bindings });
    expect(response.status).toBe(200);
    const calls = clientSpansOf(capture.spans, 'gateway', 'GET /_ops/*');
    expect(calls.map((s) => [s.name, s.attributes['url.path'], s.attributes['upstream.service'], s.attributes['http.response.status_code']])).toEqual([['GET orders', '/sagas', 'orders', 200]]);
    expect(orders.traceparents).toEqual([traceparentOf(calls[0]!)]);
  });

  it('an /_ops call the service refuses is an error span', async () => {
    const orders = serviceStub('orders', () => Response.json({ title: 'boom' }, { status: 500 }));
    expect((await callWorker(gateway, '/_ops/sagas', { headers: admin }, { ORDERS: orders.fetcher, ...capture.bindings })).status).toBe(502);
    expect(clientSpansOf(capture.spans, 'gateway', 'GET /_ops/*').map((s) => [s.name, s.status])).toEqual([['GET orders', SpanStatus.ERROR]]);
  });

  it("a BFF part: GET catalog under the screen's request, its attempt numbered", async () => {
    const catalog = serviceStub('catalog', () => Response.json({ items: [] }));
    const response = await callWorker(gateway, '/bff/web/home', {}, testEnv({ CATALOG: catalog.fetcher, CACHE_ENABLED: 'false', ...capture.bindings }));
    expect(response.status).toBe(200);
    const calls = clientSpansOf(capture.spans, 'gateway', 'GET /bff/web/home');
    expect(calls.map((s) => [s.name, s.attributes['url.path'], s.attributes['retry.attempt']])).toEqual([['GET catalog', '/products/popular', 1]]);
    expect(catalog.traceparents).toEqual([traceparentOf(calls[0]!)]);
  });

  it('a proxied request: one span per attempt, as before', async () => {
    const catalog = serviceStub('catalog', () => Response.json({ items: [], nextCursor: null }));
    const response = await callWorker(gateway, '/api/catalog/products?q=spans', {}, testEnv({ CATALOG: catalog.fetcher, CACHE_ENABLED: 'false', ...capture.bindings }));
    expect(response.status).toBe(200);
    const calls = clientSpansOf(capture.spans, 'gateway', 'GET /api/catalog/*');
    expect(calls.map((s) => [s.name, s.attributes['retry.attempt']])).toEqual([['GET catalog', 1]]);
    // The route's fallback then refreshes its copy in the background, for no request: no traceparent.
    expect(catalog.traceparents).toEqual([traceparentOf(calls[0]!), null]);
  });

  it("readiness: one span per service version under the gateway's GET /ready", async () => {
    expect((await callWorker(gateway, '/ready', {}, capture.bindings)).status).toBe(200);
    // The health routes carry no route label: their span is the gateway's `unmatched`.
    const names = clientSpansOf(capture.spans, 'gateway', 'GET unmatched').map((s) => s.name).sort();
    expect(names).toEqual(expect.arrayContaining(['GET catalog', 'GET catalog-canary', 'GET orders', 'GET users']));
  });

  it('with export off: no span, and the service continues from the request span itself', async () => {
    const orders = serviceStub('orders', () => Response.json({ items: [] }));
    const response = await callWorker(gateway, '/_ops/sagas', { headers: admin }, { ORDERS: orders.fetcher });
    expect(response.status).toBe(200);
    expect(capture.spans).toEqual([]);
    expect(orders.traceparents).toEqual([response.headers.get('traceresponse')]);
  });
});
