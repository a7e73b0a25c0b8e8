import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { createServiceApp } from '../../../shared/middleware/service-app';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { forwardToService } from '../../../workers/gateway/proxy';
import type { Route } from '../../../workers/gateway/routes';
import { callWorker } from '../../support/call-worker';

const routeWithin = (timeoutMs: number): Route => ({ name: 'catalog', prefix: '/api/catalog', service: 'CATALOG', upstreamPrefix: '', policy: { auth: 'none', timeoutMs, retry: false } });

/** A gateway with one route whose upstream is `upstream`, cut at `timeoutMs`. */
function gatewayWith(upstream: (request: Request) => Promise<Response>, timeoutMs = 50) {
  const route = routeWithin(timeoutMs);
  const app: Hono<AppEnv<GatewayBindings>> = createServiceApp<GatewayBindings>({ service: 'gateway' });
  app.all('/api/catalog/*', (c) => forwardToService(c, route, null));
  return { app, CATALOG: { fetch: upstream } as unknown as Fetcher };
}

describe('the route deadline', () => {
  it('cuts a hanging upstream at timeoutMs with a 504 and really aborts the call', async () => {
    let aborted = false;
    const { app, CATALOG } = gatewayWith(
      (request) =>
        new Promise((_, reject) =>
          request.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new DOMException('aborted', 'AbortError'));
          }),
        ),
    );
    const response = await callWorker(app, '/api/catalog/products', {}, { CATALOG });
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(aborted).toBe(true);
  });

  it('lets an upstream that answers in time through, and a network failure is a 502', async () => {
    // A deadline no busy machine misses, so an answer or a failure is what decides, never the clock.
    const fast = gatewayWith(async () => Response.json({ ok: true }), 5_000);
    expect((await callWorker(fast.app, '/api/catalog/products', {}, { CATALOG: fast.CATALOG })).status).toBe(200);
    const down = gatewayWith(() => Promise.reject(new Error('connection reset')), 5_000);
    expect((await callWorker(down.app, '/api/catalog/products', {}, { CATALOG: down.CATALOG })).status).toBe(502);
  });
});
