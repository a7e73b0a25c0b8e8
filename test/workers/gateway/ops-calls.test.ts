import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createServiceApp } from '../../../shared/middleware/service-app';
import gateway from '../../../workers/gateway/index';
import { callWorker, testEnv } from '../../support/call-worker';

const admin = { authorization: 'Bearer test-admin-token' };

/** A service behind the real service-token check (its audience is `service`), answering what `answer` says. */
function serviceStub(service: string, answer: (request: Request) => Response | Promise<Response>) {
  const calls: { method: string; url: string; scope?: string }[] = [];
  const app = createServiceApp({ service, verifyServiceToken: true });
  app.all('*', async (c) => {
    calls.push({ method: c.req.method, url: c.req.url, scope: c.get('caller')?.scope });
    return answer(c.req.raw);
  });
  return { calls, fetcher: { fetch: (request: Request) => app.fetch(request, env, createExecutionContext()) } as unknown as Fetcher };
}

describe('GET /_ops/sagas: a call to the orders service that must succeed', () => {
  it('passes the JSON through, asked with the ops scope', async () => {
    const orders = serviceStub('orders', () => Response.json({ items: [] }));
    const response = await callWorker(gateway, '/_ops/sagas?status=PENDING', { headers: admin }, { ORDERS: orders.fetcher });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [] });
    expect(orders.calls).toEqual([{ method: 'GET', url: 'https://orders.internal/sagas?status=PENDING', scope: 'ops' }]);
  });

  it.each([
    ['?status=LOST', 'status'],
    ['?limit=0', 'limit'],
    ['?limit=many', 'limit'],
  ])('answers %s with a 400 naming the field, and asks the orders service nothing', async (query, field) => {
    const orders = serviceStub('orders', () => Response.json({ items: [] }));
    const response = await callWorker(gateway, `/_ops/sagas${query}`, { headers: admin }, { ORDERS: orders.fetcher });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors.map((e) => e.path)).toEqual([field]);
    expect(orders.calls).toEqual([]);
  });

  it.each([
    ['a 500', () => Response.json({ title: 'boom' }, { status: 500 }), 'The orders service answered 500.'],
    ['a 200 that is not JSON', () => new Response('ok', { headers: { 'content-type': 'text/plain' } }), 'The orders service answered 200 without a JSON body.'],
    ['a 200 without a body', () => new Response(null, { status: 200 }), 'The orders service answered 200 without a body.'],
  ])('is a 502 naming the service for %s', async (_, answer, detail) => {
    const orders = serviceStub('orders', answer);
    const response = await callWorker(gateway, '/_ops/sagas', { headers: admin }, { ORDERS: orders.fetcher });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { detail: string }).detail).toBe(detail);
  });
});

describe('/_ops/chaos/:service: the service version\'s own switch', () => {
  const settings = { failureRate: 0.5, status: 503, latencyMs: 0, hang: false };

  it('reaches the canary by its own name, with a token for the catalog (whose code it runs)', async () => {
    const canary = serviceStub('catalog', async (request) => (request.method === 'DELETE' ? new Response(null, { status: 204 }) : Response.json({ chaos: await request.json() })));
    const bindings = testEnv({ CATALOG_CANARY: canary.fetcher, ALLOW_CHAOS: 'true' });
    const put = await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: 0.5 }) }, bindings);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ service: 'catalog-canary', chaos: settings });
    const off = await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'DELETE', headers: admin }, bindings);
    expect(off.status).toBe(204);
    expect(canary.calls).toEqual([
      { method: 'PUT', url: 'https://catalog-canary.internal/_chaos', scope: 'ops' },
      { method: 'DELETE', url: 'https://catalog-canary.internal/_chaos', scope: 'ops' },
    ]);
  });

  it('is a 502 naming the service when it refuses the switch', async () => {
    const canary = serviceStub('catalog', () => Response.json({ title: 'no' }, { status: 500 }));
    const response = await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'DELETE', headers: admin }, testEnv({ CATALOG_CANARY: canary.fetcher, ALLOW_CHAOS: 'true' }));
    expect(response.status).toBe(502);
    expect(((await response.json()) as { detail: string }).detail).toBe('The catalog-canary service answered 500.');
  });
});
