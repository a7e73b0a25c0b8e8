import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { DEFAULT_BREAKER_OPTIONS } from '../../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { forwardToService } from '../../../workers/gateway/proxy';
import { qstashRetryAfterSeconds } from '../../../workers/gateway/resilience/qstash-retry-after';
import type { Route, RoutePolicy } from '../../../workers/gateway/routes';
import { callWorker, testEnv } from '../../support/call-worker';

type Upstream = (request: Request) => Promise<Response>;

/**
 * A gateway with one route to a scripted upstream. Each test gets its own route name, so its own
 * breaker Durable Object, and its own env object, so its own isolate-level guard.
 */
function gatewayWith(upstream: Upstream, policy: Omit<RoutePolicy, 'auth'>) {
  const route: Route = { name: `t-${crypto.randomUUID()}`, prefix: '/api/t', service: 'CATALOG', upstreamPrefix: '', policy: { auth: 'none', ...policy } };
  const app: Hono<AppEnv<GatewayBindings>> = createServiceApp<GatewayBindings>({ service: 'gateway' });
  app.all('/api/t/*', (c) => forwardToService(c, route, null));
  const calls: Request[] = [];
  const CATALOG = { fetch: (request: Request) => (calls.push(request), upstream(request)) } as unknown as Fetcher;
  const routeEnv = testEnv({ CATALOG });
  const breaker = () => env.BREAKERS.get(env.BREAKERS.idFromName(route.name));
  return { calls, breaker, call: (path: string, init?: RequestInit) => callWorker(app, path, init, routeEnv) };
}

const problem = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { type: string; status: number; detail: string };
};

const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('retry', () => {
  it('absorbs a transient 503: the caller sees the 200 of the second attempt', async () => {
    let n = 0;
    const gw = gatewayWith(async () => (++n === 1 ? new Response('busy', { status: 503 }) : Response.json({ ok: true })), { retry: fastRetry });
    const response = await gw.call('/api/t/items');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(gw.calls).toHaveLength(2);
  });

  it('never retries a POST without an Idempotency-Key', async () => {
    const gw = gatewayWith(async () => new Response('busy', { status: 503 }), { retry: fastRetry });
    const response = await gw.call('/api/t/charges', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(response.status).toBe(503);
    expect(gw.calls).toHaveLength(1);
  });

  it('retries a POST with an Idempotency-Key, sending the same body and key each time', async () => {
    const gw = gatewayWith(async () => new Response('busy', { status: 503 }), { retry: fastRetry });
    const response = await gw.call('/api/t/charges', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: '{"amountCents":500}',
    });
    expect(response.status).toBe(503);
    expect(gw.calls).toHaveLength(3);
    const sent = await Promise.all(gw.calls.map(async (r) => [r.headers.get('idempotency-key'), await r.text()]));
    expect(sent).toEqual(Array(3).fill(['k-1', '{"amountCents":500}']));
  });

  it('never retries a write to a service that does not dedupe by Idempotency-Key (idempotencyKeys: false), key or not; its GETs still are', async () => {
    const gw = gatewayWith(async () => new Response('busy', { status: 503 }), { retry: fastRetry, idempotencyKeys: false });
    const response = await gw.call('/api/t/deposits', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-2' }, body: '{"amountCents":5}' });
    expect(response.status).toBe(503);
    expect(gw.calls).toHaveLength(1);
    await gw.call('/api/t/accounts/a');
    expect(gw.calls).toHaveLength(4);
  });

  it('does not retry a 500 (a bug, not overload) or a 4xx', async () => {
    for (const status of [500, 404, 409]) {
      const gw = gatewayWith(async () => new Response('no', { status }), { retry: fastRetry });
      expect((await gw.call('/api/t/x')).status).toBe(status);
      expect(gw.calls).toHaveLength(1);
    }
  });

  it('retries a network error on a GET', async () => {
    let n = 0;
    const gw = gatewayWith(async () => (++n < 3 ? Promise.reject(new Error('connection reset')) : Response.json({ ok: true })), { retry: fastRetry });
    expect((await gw.call('/api/t/x')).status).toBe(200);
    expect(gw.calls).toHaveLength(3);
  });
});

describe('circuit breaker in the gateway', () => {
  const breaker = { minimumCalls: 4, failureRateThreshold: 50, openDurationMs: 60_000, halfOpenMaxCalls: 1 };

  it('opens after minimumCalls failures and then refuses without calling the upstream, as 503 problem+json', async () => {
    const gw = gatewayWith(async () => new Response('down', { status: 500 }), { retry: false, breaker });
    for (let i = 0; i < 4; i++) expect((await gw.call('/api/t/x')).status).toBe(500);
    expect(gw.calls).toHaveLength(4);
    const refused = await gw.call('/api/t/x');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(await problem(refused)).toMatchObject({ type: '/problems/circuit-open', status: 503 });
    expect(gw.calls).toHaveLength(4);
    expect(await gw.breaker().snapshot({ ...DEFAULT_BREAKER_OPTIONS, ...breaker })).toMatchObject({ state: 'open', calls: 4, failureRate: 1 });
  });

  it('does not count 4xx answers as failures', async () => {
    const gw = gatewayWith(async () => new Response('nope', { status: 404 }), { retry: false, breaker });
    for (let i = 0; i < 10; i++) expect((await gw.call('/api/t/x')).status).toBe(404);
    expect(gw.calls).toHaveLength(10);
    expect((await gw.breaker().snapshot({ ...DEFAULT_BREAKER_OPTIONS, ...breaker })).state).toBe('closed');
  });

  it('counts a timeout as a failure', async () => {
    const hang: Upstream = (request) =>
      new URL(request.url).pathname.endsWith('/warm')
        ? Promise.resolve(Response.json({ ok: true }))
        : new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const gw = gatewayWith(hang, { retry: false, timeoutMs: 20, breaker });
    // A first call lets the isolate learn the breaker's state (one round trip to its object, which
    // a cold object may take longer than the 20 ms deadline to answer; a call whose permit came
    // too late is never made and counts for nothing); the three after it go ahead at once and
    // time out: 3 failures in 4 calls.
    await expect.poll(async () => (await gw.call('/api/t/warm')).status).toBe(200);
    const warmUp = gw.calls.length;
    for (let i = 0; i < 3; i++) expect((await gw.call('/api/t/x')).status).toBe(504);
    // The aborted call's outcome reaches the breaker's object as the abort unwinds, which on a busy
    // machine can trail the 504 the client already has: wait (with a deadline) for the object to
    // have counted the timeouts, then the next call is refused without reaching the upstream.
    await expect
      .poll(async () => (await gw.breaker().snapshot({ ...DEFAULT_BREAKER_OPTIONS, ...breaker })).state, { timeout: 5_000 })
      .toBe('open');
    expect(await gw.breaker().snapshot({ ...DEFAULT_BREAKER_OPTIONS, ...breaker })).toMatchObject({ calls: 4, failureRate: 0.75 });
    expect((await gw.call('/api/t/x')).status).toBe(503);
    expect(gw.calls).toHaveLength(warmUp + 3);
  });
});

describe('bulkhead', () => {
  it('refuses at once with 503 when every slot and the queue are taken, and recovers when they free', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gw = gatewayWith(async () => (await held, Response.json({ ok: true })), { retry: false, bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    const first = gw.call('/api/t/a');
    const queued = gw.call('/api/t/b');
    // The upstream has the first call; the second waits in the queue; the third finds no room.
    await expect.poll(() => gw.calls.length).toBe(1);
    const refused = await gw.call('/api/t/c');
    expect(refused.status).toBe(503);
    expect(await problem(refused)).toMatchObject({ type: '/problems/bulkhead-full' });
    expect(refused.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(gw.calls).toHaveLength(2);
  });

  it('on a route QStash calls, the refusal asks for a QStash-sized wait, growing with Upstash-Retried and spread, never 1 s', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gw = gatewayWith(async () => (await held, Response.json({ ok: true })), { retry: false, breaker: false, callers: 'qstash', bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    const first = gw.call('/api/t/hook');
    await expect.poll(() => gw.calls.length).toBe(1);
    const refusal = (retried: number) => gw.call('/api/t/hook', { headers: { 'upstash-retried': String(retried) } });
    const firstTries = await Promise.all(Array.from({ length: 8 }, () => refusal(0)));
    const waits = firstTries.map((r) => Number(r.headers.get('retry-after')));
    expect(firstTries.every((r) => r.status === 503)).toBe(true);
    // QStash's first backoff is ~12 s; spread by 0.5-1.5: 6 to 18 s, and not all the same.
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(6);
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(18);
    expect(new Set(waits).size).toBeGreaterThan(1);
    const third = Number((await refusal(2)).headers.get('retry-after'));
    expect(third).toBeGreaterThanOrEqual(904);
    expect(third).toBeLessThanOrEqual(2_712);
    release();
    expect((await first).status).toBe(200);
  });
});

describe('qstashRetryAfterSeconds', () => {
  it("is QStash's backoff for the next retry, spread by 0.5 to 1.5, in whole seconds from 1 s to a day", () => {
    expect(qstashRetryAfterSeconds('0', () => 0.5)).toBe(12);
    expect(qstashRetryAfterSeconds('1', () => 0.5)).toBe(148);
    expect(qstashRetryAfterSeconds('2', () => 0)).toBe(904);
    expect(qstashRetryAfterSeconds('2', () => 0.999)).toBe(2_710);
    expect(qstashRetryAfterSeconds('9', () => 0.999)).toBe(86_400);
    // No or a nonsense header: as on a first delivery.
    expect(qstashRetryAfterSeconds(null, () => 0.5)).toBe(12);
    expect(qstashRetryAfterSeconds('-3', () => 0.5)).toBe(12);
  });
});

describe('fallbacks', () => {
  it('answers a failed GET with the last good answer for the same path and query, marked as such', async () => {
    let healthy = true;
    const gw = gatewayWith(
      async (r) =>
        healthy
          ? Response.json({ path: new URL(r.url).search }, { headers: { traceresponse: '00-11111111111111111111111111111111-2222222222222222-01', 'x-upstream-marker': 'kept' } })
          : new Response('down', { status: 503 }),
      { retry: false, fallback: [{ kind: 'last-good' }] },
    );
    const first = await gw.call('/api/t/items?b=2&a=1');
    expect(first.status).toBe(200);
    const firstTrace = first.headers.get('traceresponse');
    healthy = false;
    const fallback = await gw.call('/api/t/items?a=1&b=2');
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get('x-fallback')).toBe('last-good');
    expect(fallback.headers.get('x-fallback-reason')).toBe('upstream-503');
    expect(fallback.headers.get('cache-control')).toBe('no-store');
    expect(await fallback.json()).toEqual({ path: '?b=2&a=1' });
    // The first caller's exchange headers are not replayed to the next.
    expect(fallback.headers.get('traceresponse')).not.toBe(firstTrace);
    expect(fallback.headers.get('x-upstream-marker')).toBe('kept');
    // Nothing was cached for another query: the upstream's own error goes through.
    expect((await gw.call('/api/t/items?a=9')).status).toBe(503);
  });

  it('never keeps an answer given to an identified caller, and never answers a POST', async () => {
    let healthy = true;
    const gw = gatewayWith(async () => (healthy ? Response.json({ secret: true }) : new Response('down', { status: 503 })), {
      retry: false,
      fallback: [{ kind: 'last-good' }, { kind: 'static', body: { items: [] }, paths: ['/static'] }],
    });
    await gw.call('/api/t/me', { headers: { authorization: 'Bearer someone' } });
    healthy = false;
    expect((await gw.call('/api/t/me')).status).toBe(503);
    expect((await gw.call('/api/t/static', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(503);
    const stat = await gw.call('/api/t/static');
    expect(stat.headers.get('x-fallback')).toBe('static');
    expect(await stat.json()).toEqual({ items: [] });
  });

  it('answers a list with the degraded source, fetched while healthy, when the breaker is open', async () => {
    let healthy = true;
    const gw = gatewayWith(
      async (r) => {
        const path = new URL(r.url).pathname;
        if (!healthy) return new Response('down', { status: 503 });
        return Response.json({ from: path });
      },
      {
        retry: false,
        breaker: { minimumCalls: 2, openDurationMs: 60_000 },
        fallback: [{ kind: 'degraded', paths: ['/products'], source: '/products/popular?limit=3' }],
      },
    );
    expect((await gw.call('/api/t/products/1')).status).toBe(200);
    expect(gw.calls.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual(['/products/1', '/products/popular?limit=3']);
    healthy = false;
    await gw.call('/api/t/products/2');
    await gw.call('/api/t/products/3');
    const calls = gw.calls.length;
    const degraded = await gw.call('/api/t/products?limit=50');
    expect(degraded.status).toBe(200);
    expect(degraded.headers.get('x-fallback')).toBe('degraded');
    expect(degraded.headers.get('x-fallback-reason')).toBe('circuit-open');
    expect(await degraded.json()).toEqual({ from: '/products/popular' });
    expect(gw.calls.length).toBe(calls);
    // A path the degraded rule does not cover gets the breaker's problem.
    expect((await gw.call('/api/t/products/9')).status).toBe(503);
  });
});
