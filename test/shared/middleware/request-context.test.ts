import { describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../../shared/observability/trace-context';
import { harness, problemOf } from '../support/service-app-harness';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

function itemsApp(options: Parameters<typeof harness>[0] = {}) {
  const h = harness(options);
  h.app.get('/items/:id', (c) => {
    h.advance(42);
    c.get('log').info('looking up item', { id: c.req.param('id') });
    return c.json({ id: c.req.param('id'), requestId: c.get('requestId'), trace: c.get('trace') });
  });
  return h;
}

describe('requestContext: request id', () => {
  it('echoes a valid x-request-id and hands it to the handler', async () => {
    const { app } = itemsApp();
    const response = await app.request('/items/1', { headers: { 'x-request-id': 'client-id.123' } });
    expect(response.headers.get('x-request-id')).toBe('client-id.123');
    expect(((await response.json()) as { requestId: string }).requestId).toBe('client-id.123');
  });

  it('replaces an unsafe x-request-id with a fresh one', async () => {
    const { app, requestLogs } = itemsApp();
    const response = await app.request('/items/1', { headers: { 'x-request-id': 'has spaces "and quotes"' } });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLogs()[0]?.requestId).toBe(id);
  });

  it('gives every request its own id when none is sent', async () => {
    const { app } = itemsApp();
    const a = (await app.request('/items/1')).headers.get('x-request-id');
    const b = (await app.request('/items/1')).headers.get('x-request-id');
    expect(a).toBeTruthy();
    expect(a).not.toBe(b);
  });

  it('sets x-request-id on error responses too, matching the problem body', async () => {
    const { app } = itemsApp();
    const response = await app.request('/nowhere', { headers: { 'x-request-id': 'err-1' } });
    expect(response.headers.get('x-request-id')).toBe('err-1');
    expect((await problemOf(response)).requestId).toBe('err-1');
  });
});

describe('requestContext: trace context', () => {
  it('continues the caller trace and answers with a traceresponse naming this hop span', async () => {
    const { app, requestLogs } = itemsApp();
    const response = await app.request('/items/1', {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=1' },
    });
    const { trace } = (await response.json()) as { trace: { traceId: string; spanId: string; parentSpanId: string; tracestate: string } };
    expect(trace).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_SPAN, tracestate: 'vendor=1' });
    expect(trace.spanId).not.toBe(CLIENT_SPAN);

    const traceresponse = parseTraceparent(response.headers.get('traceresponse'));
    expect(traceresponse).toEqual({ traceId: CLIENT_TRACE, parentSpanId: trace.spanId, flags: '01' });
    expect(requestLogs()[0]).toMatchObject({ traceId: CLIENT_TRACE, spanId: trace.spanId, parentSpanId: CLIENT_SPAN });
  });

  it('starts a new sampled trace when the traceparent is invalid', async () => {
    const { app } = itemsApp();
    const response = await app.request('/items/1', { headers: { traceparent: 'ff-bogus', tracestate: 'vendor=1' } });
    const { trace } = (await response.json()) as { trace: { traceId: string; parentSpanId: string | null; tracestate: string | null } };
    expect(trace.traceId).not.toBe(CLIENT_TRACE);
    expect(trace.parentSpanId).toBeNull();
    expect(trace.tracestate).toBeNull();
    expect(parseTraceparent(response.headers.get('traceresponse'))?.traceId).toBe(trace.traceId);
  });

  it('uses the random generator it is given for span ids', async () => {
    const { app } = itemsApp({ random: (length) => new Uint8Array(length).fill(0xab) });
    const response = await app.request('/items/1', { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` } });
    expect(response.headers.get('traceresponse')).toBe(`00-${CLIENT_TRACE}-${'ab'.repeat(8)}-00`);
  });

  it('keeps a traceresponse a service further down already answered with', async () => {
    const h = harness();
    const downstream = `00-${CLIENT_TRACE}-1111111111111111-01`;
    h.app.get('/proxied', (c) => c.text('ok', 200, { traceresponse: downstream }));
    expect((await h.app.request('/proxied')).headers.get('traceresponse')).toBe(downstream);
  });

  it('adds a traceresponse to error responses', async () => {
    const { app } = itemsApp();
    const response = await app.request('/nowhere');
    expect(parseTraceparent(response.headers.get('traceresponse'))).not.toBeNull();
  });
});

describe('requestContext: the request log line', () => {
  it('writes one request line with ids, method, route pattern, path, status and duration', async () => {
    const { app, logs, requestLogs } = itemsApp();
    const response = await app.request('/items/abc', { headers: { 'x-request-id': 'rid-1' } });
    const traceresponse = parseTraceparent(response.headers.get('traceresponse'));

    expect(requestLogs()).toHaveLength(1);
    expect(requestLogs()[0]).toEqual({
      ts: expect.any(String),
      level: 'info',
      service: 'test-svc',
      requestId: 'rid-1',
      traceId: traceresponse?.traceId,
      spanId: traceresponse?.parentSpanId,
      parentSpanId: null,
      msg: 'request',
      method: 'GET',
      route: '/items/:id',
      path: '/items/abc',
      status: 200,
      durationMs: 42,
    });
    // The handler's own lines carry the same ids.
    expect(logs().find((r) => r.msg === 'looking up item')).toMatchObject({ requestId: 'rid-1', traceId: traceresponse?.traceId, id: 'abc' });
  });

  it('labels a request no route matched as unmatched', async () => {
    const { app, requestLogs } = itemsApp();
    await app.request('/nowhere', { method: 'DELETE' });
    expect(requestLogs()[0]).toMatchObject({ method: 'DELETE', route: 'unmatched', path: '/nowhere', status: 404, level: 'info' });
  });

  it('logs a 5xx request at error level', async () => {
    const h = harness();
    h.app.get('/boom', () => {
      throw new Error('kaput');
    });
    await h.app.request('/boom');
    expect(h.requestLogs()[0]).toMatchObject({ level: 'error', route: '/boom', status: 500 });
  });

  it('uses the route and service labels a handler sets', async () => {
    const h = harness();
    h.app.get('/api/*', (c) => {
      c.set('routeLabel', '/api/catalog/products');
      c.set('serviceLabel', 'catalog');
      return c.text('ok');
    });
    await h.app.request('/api/catalog/products/1');
    expect(h.requestLogs()[0]).toMatchObject({ route: '/api/catalog/products', upstream: 'catalog' });
    expect(h.completed).toEqual([{ service: 'catalog', route: '/api/catalog/products', method: 'GET', status: 200, durationMs: 0 }]);
  });

  it('leaves upstream out when the service answered itself', async () => {
    const { app, requestLogs } = itemsApp();
    await app.request('/items/1');
    expect(requestLogs()[0]).not.toHaveProperty('upstream');
  });
});

describe('requestContext: onComplete', () => {
  it('is called once per request with what the log line says', async () => {
    const { app, completed } = itemsApp();
    await app.request('/items/1', { method: 'GET' });
    await app.request('/nowhere');
    expect(completed).toEqual([
      { service: 'test-svc', route: '/items/:id', method: 'GET', status: 200, durationMs: 42 },
      { service: 'test-svc', route: 'unmatched', method: 'GET', status: 404, durationMs: 0 },
    ]);
  });

  it('throwing does not change the response, and the failure is logged', async () => {
    const h = itemsApp({
      onComplete: () => {
        throw new Error('metrics exploded');
      },
    });
    const response = await h.app.request('/items/7', { headers: { 'x-request-id': 'r-7' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('r-7');
    expect(((await response.json()) as { id: string }).id).toBe('7');
    expect(h.logs().find((r) => r.msg === 'request bookkeeping failed')).toMatchObject({
      level: 'error',
      requestId: 'r-7',
      error: { message: 'metrics exploded' },
    });
  });
});
