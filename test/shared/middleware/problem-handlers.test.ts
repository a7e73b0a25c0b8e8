import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { HttpError, serviceUnavailable } from '../../../shared/http/problem';
import { harness, problemOf } from '../support/service-app-harness';

function app() {
  const h = harness();
  h.app.get('/boom', () => {
    throw new Error('connection string postgres://admin:hunter2@db failed');
  });
  h.app.get('/type-error', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secret')");
  });
  h.app.get('/busy', () => {
    throw serviceUnavailable('Try again shortly.', { 'retry-after': '7' });
  });
  h.app.get('/copied', () => {
    // An HttpError that crossed an RPC boundary: a plain object with the marker, no class.
    throw Object.assign(new Error('from upstream'), { ...new HttpError(409, { detail: 'Already taken.' }) });
  });
  h.app.get('/hono-401', () => {
    throw new HTTPException(401, { message: 'Token expired.', res: new Response(null, { headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' } }) });
  });
  h.app.get('/hono-bare', () => {
    throw new HTTPException(403);
  });
  return h;
}

describe('problemNotFound', () => {
  it('answers an unknown route with a 404 problem naming the method, path, instance and requestId', async () => {
    const response = await app().app.request('/no/such/thing', { method: 'PATCH', headers: { 'x-request-id': 'nf-1' } });
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toEqual({
      type: '/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No route for PATCH /no/such/thing.',
      instance: '/no/such/thing',
      requestId: 'nf-1',
    });
  });

  it('puts the gateway prefix a service was reached through in front of instance', async () => {
    const response = await app().app.request('/products/missing', { headers: { 'x-forwarded-prefix': '/api/catalog' } });
    expect((await problemOf(response)).instance).toBe('/api/catalog/products/missing');
  });

  it('takes off the upstream prefix a route rewrote the public one to', async () => {
    const headers = { 'x-forwarded-prefix': '/api/pay', 'x-forwarded-upstream-prefix': '/products' };
    expect((await problemOf(await app().app.request('/products/missing', { headers }))).instance).toBe('/api/pay/missing');
    // Only on a segment boundary: '/productsx' does not start with the '/products' segment.
    expect((await problemOf(await app().app.request('/productsx', { headers }))).instance).toBe('/api/pay/productsx');
  });
});

describe('problemOnError', () => {
  it('turns a thrown non-HttpError into a 500 whose detail does not leak the message', async () => {
    const h = app();
    for (const path of ['/boom', '/type-error']) {
      const response = await h.app.request(path);
      expect(response.status).toBe(500);
      const text = await response.clone().text();
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('secret');
      const problem = await problemOf(response);
      expect(problem).toMatchObject({ status: 500, title: 'Internal Server Error', type: '/problems/internal-server-error', instance: path });
      expect(problem.requestId).toBe(response.headers.get('x-request-id'));
    }
  });

  it('keeps the whole unexpected error in the request log line', async () => {
    const h = app();
    await h.app.request('/boom', { headers: { 'x-request-id': 'boom-1' } });
    expect(h.logs().find((r) => r.msg === 'unhandled error')).toMatchObject({
      level: 'error',
      requestId: 'boom-1',
      error: { name: 'Error', message: 'connection string postgres://admin:hunter2@db failed', stack: expect.stringContaining('hunter2') },
    });
  });

  it('renders an HttpError with its status, detail and headers', async () => {
    const response = await app().app.request('/busy');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await problemOf(response)).toMatchObject({ status: 503, title: 'Service Unavailable', detail: 'Try again shortly.' });
  });

  it('renders an error that only carries the HttpError marker as that HttpError', async () => {
    const response = await app().app.request('/copied');
    expect(response.status).toBe(409);
    expect(await problemOf(response)).toMatchObject({ status: 409, detail: 'Already taken.', type: '/problems/conflict' });
  });

  it("renders Hono's HTTPException as a problem, keeping its headers but not its content type", async () => {
    const response = await app().app.request('/hono-401');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await problemOf(response)).toMatchObject({ status: 401, title: 'Unauthorized', detail: 'Token expired.' });
  });

  it('uses the status title as detail for an HTTPException without a message', async () => {
    const response = await app().app.request('/hono-bare');
    expect(await problemOf(response)).toMatchObject({ status: 403, detail: 'Forbidden' });
  });
});
