import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../../../shared/http/identity';
import { createServiceApp } from '../../../shared/middleware/service-app';
import type { CachePolicy } from '../../../workers/gateway/cache/cache-policy';
import { CACHE_KEY_PATH, cached } from '../../../workers/gateway/cache/response-cache';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { metricsResponse, recordRequest } from '../../../workers/gateway/ops/metrics';
import { forwardToService } from '../../../workers/gateway/proxy';
import { routeLabel, type Route, type RoutePolicy } from '../../../workers/gateway/routes';
import { callWorker, testEnv } from '../../support/call-worker';

type Upstream = (request: Request) => Promise<Response>;

/**
 * A gateway with one cached route in front of a scripted upstream, wired as index.ts wires its
 * routes (`cached(c, route, identity, () => forwardToService(...))`), with the real Cache API, the
 * real CacheTags objects and the real metrics recorder. Each gateway has its own route name and
 * prefix (so its own cache keys, tags and metric series) and its own env object (so its own
 * isolate-level state: flights, refreshes, tag versions); `isolate()` is a second isolate of the
 * same gateway: same route, same Cache API, its own isolate state. The identity comes from
 * `x-test-user`, a stand-in for a verified token.
 */
function gatewayWith(upstream: Upstream, cache: Partial<CachePolicy> = {}, policy: Partial<RoutePolicy> = {}, bindings: Partial<Cloudflare.Env> = {}) {
  const id = crypto.randomUUID().slice(0, 8);
  const route: Route = {
    name: `cache-${id}`,
    prefix: `/api/cache-${id}`,
    service: 'CATALOG',
    upstreamPrefix: '',
    policy: { auth: 'none', retry: false, breaker: false, cache: { ttlSeconds: 30, staleWhileRevalidateSeconds: 60, ...cache }, ...policy },
  };
  let arrived = 0;
  const app = createServiceApp<GatewayBindings>({ service: 'gateway', onComplete: recordRequest });
  app.get('/metrics', metricsResponse);
  app.all(`${route.prefix}/*`, (c) => {
    arrived++;
    c.set('serviceLabel', route.name);
    c.set('routeLabel', routeLabel(route));
    const user = c.req.header('x-test-user');
    const identity: Identity | null = user ? { userId: user, roles: [] } : null;
    return cached(c, route, identity, () => forwardToService(c, route, identity));
  });
  const calls: Request[] = [];
  const CATALOG = { fetch: (request: Request) => (calls.push(request), upstream(request)) } as unknown as Fetcher;
  const isolate = () => {
    const isolateEnv = testEnv({ CATALOG, ...bindings });
    return {
      call: (path: string, init: RequestInit = {}) => callWorker(app, `${route.prefix}${path}`, init, isolateEnv),
      /** Answers without waiting for the request's `waitUntil` work; `settled()` waits for it. */
      start: (path: string, init: RequestInit = {}) => {
        const ctx = createExecutionContext();
        const response = app.fetch(new Request(`http://stratus.test${route.prefix}${path}`, init), isolateEnv, ctx);
        return { response, settled: () => waitOnExecutionContext(ctx) };
      },
      metrics: () => callWorker(app, '/metrics', {}, isolateEnv).then((r) => r.text()),
    };
  };
  return { route, calls, arrived: () => arrived, isolate, ...isolate() };
}

/** A counter upstream: each call answers `{n}` with the call's number. */
function counting(init: ResponseInit = {}): Upstream {
  let n = 0;
  return async () => Response.json({ n: ++n }, init);
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Moves the clock the gateway reads (Date.now) forward by `seconds`, cumulatively. */
function clock() {
  const real = Date.now.bind(Date);
  let offsetMs = 0;
  vi.spyOn(Date, 'now').mockImplementation(() => real() + offsetMs);
  return { advance: (seconds: number) => void (offsetMs += seconds * 1000) };
}

const xcache = (response: Response) => response.headers.get('x-cache');
const body = async (response: Response) => (await response.json()) as { n: number };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cache-aside with TTL and stale-while-revalidate', () => {
  it('MISS, then HIT without calling the upstream, then STALE with one background refresh, then HIT with the new body; past both, MISS', async () => {
    const time = clock();
    const gw = gatewayWith(counting());

    const miss = await gw.call('/items');
    expect([xcache(miss), await body(miss)]).toEqual(['MISS', { n: 1 }]);
    expect(miss.headers.has('age')).toBe(false);

    const hit = await gw.call('/items');
    expect([xcache(hit), hit.headers.get('age'), await body(hit)]).toEqual(['HIT', '0', { n: 1 }]);
    time.advance(10);
    const older = await gw.call('/items');
    expect([xcache(older), older.headers.get('age'), await body(older)]).toEqual(['HIT', '10', { n: 1 }]);
    expect(gw.calls).toHaveLength(1);

    // Past the 30 s TTL, within the 60 s stale-while-revalidate: the old answer at once...
    time.advance(21);
    const stale = await gw.call('/items');
    expect([xcache(stale), stale.headers.get('age'), await body(stale)]).toEqual(['STALE', '31', { n: 1 }]);
    // ...and one refresh, in waitUntil (callWorker waits for it).
    expect(gw.calls).toHaveLength(2);
    const refreshed = await gw.call('/items');
    expect([xcache(refreshed), refreshed.headers.get('age'), await body(refreshed)]).toEqual(['HIT', '0', { n: 2 }]);

    // Past TTL + swr of the refreshed copy: a MISS, fetched while the caller waits.
    time.advance(90);
    const expired = await gw.call('/items');
    expect([xcache(expired), await body(expired)]).toEqual(['MISS', { n: 3 }]);
    expect(gw.calls).toHaveLength(3);
  });

  it('runs ONE background refresh however many stale answers go out while it runs', async () => {
    const time = clock();
    let held: ReturnType<typeof deferred> | null = null;
    let n = 0;
    const gw = gatewayWith(async () => {
      const number = ++n;
      if (held) await held.promise;
      return Response.json({ n: number });
    });
    expect(xcache(await gw.call('/slow'))).toBe('MISS');
    time.advance(45);
    held = deferred();
    const first = gw.start('/slow');
    const firstResponse = await first.response;
    expect([xcache(firstResponse), await body(firstResponse)]).toEqual(['STALE', { n: 1 }]);
    await expect.poll(() => gw.calls.length).toBe(2);
    // The refresh is still running: more stale answers, no more refreshes.
    const others = [gw.start('/slow'), gw.start('/slow'), gw.start('/slow')];
    for (const other of others) expect(xcache(await other.response)).toBe('STALE');
    expect(gw.calls).toHaveLength(2);
    held.resolve();
    await Promise.all([first.settled(), ...others.map((o) => o.settled())]);
    const after = await gw.call('/slow');
    expect([xcache(after), await body(after)]).toEqual(['HIT', { n: 2 }]);
    expect(gw.calls).toHaveLength(2);
  });

  it('serves HEAD from the cache without a body, and a HEAD miss is not stored', async () => {
    const gw = gatewayWith(counting());
    const headMiss = await gw.call('/h', { method: 'HEAD' });
    expect(xcache(headMiss)).toBe('MISS');
    expect(gw.calls.map((r) => r.method)).toEqual(['HEAD']);
    expect(xcache(await gw.call('/h'))).toBe('MISS');
    const headHit = await gw.call('/h', { method: 'HEAD' });
    expect(xcache(headHit)).toBe('HIT');
    expect(await headHit.text()).toBe('');
    expect(gw.calls).toHaveLength(2);
  });
});

describe('keys', () => {
  it('one entry for the same query parameters in any order; another for other parameters or another path', async () => {
    const gw = gatewayWith(counting());
    expect(xcache(await gw.call('/items?b=2&a=1'))).toBe('MISS');
    const sameQuery = await gw.call('/items?a=1&b=2');
    expect([xcache(sameQuery), await body(sameQuery)]).toEqual(['HIT', { n: 1 }]);
    expect(xcache(await gw.call('/items?a=1'))).toBe('MISS');
    expect(xcache(await gw.call('/items?a=1&b=3'))).toBe('MISS');
    expect(xcache(await gw.call('/other?a=1&b=2'))).toBe('MISS');
    expect(gw.calls.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual(['/items?b=2&a=1', '/items?a=1', '/items?a=1&b=3', '/other?a=1&b=2']);
  });

  it('keys a `vary` header’s value', async () => {
    const gw = gatewayWith(counting(), { vary: ['accept-language'] });
    expect(xcache(await gw.call('/v', { headers: { 'accept-language': 'de' } }))).toBe('MISS');
    expect(xcache(await gw.call('/v', { headers: { 'accept-language': 'fr' } }))).toBe('MISS');
    const de = await gw.call('/v', { headers: { 'accept-language': 'de' } });
    expect([xcache(de), await body(de)]).toEqual(['HIT', { n: 1 }]);
  });

  it('a private route keys by user: each user is served only their own answer', async () => {
    const gw = gatewayWith(counting(), { private: true });
    const alice = { authorization: 'Bearer alice-token', 'x-test-user': 'alice' };
    expect(xcache(await gw.call('/me', { headers: alice }))).toBe('MISS');
    const again = await gw.call('/me', { headers: alice });
    expect([xcache(again), await body(again)]).toEqual(['HIT', { n: 1 }]);
    const bob = await gw.call('/me', { headers: { authorization: 'Bearer bob-token', 'x-test-user': 'bob' } });
    expect([xcache(bob), await body(bob)]).toEqual(['MISS', { n: 2 }]);
  });
});

describe('what is never cached', () => {
  it('BYPASS for a request with Authorization or Cookie on a route that is not private: not looked up, not stored', async () => {
    const gw = gatewayWith(counting());
    for (const headers of [{ authorization: 'Bearer someone' }, { cookie: 'session=abc' }] as Record<string, string>[]) {
      const response = await gw.call('/p', { headers });
      expect(xcache(response)).toBe('BYPASS');
    }
    // Nothing was stored for the anonymous caller either.
    const anonymous = await gw.call('/p');
    expect([xcache(anonymous), await body(anonymous)]).toEqual(['MISS', { n: 3 }]);
    // And a caller with credentials is not served the anonymous copy.
    const withToken = await gw.call('/p', { headers: { authorization: 'Bearer someone' } });
    expect([xcache(withToken), await body(withToken)]).toEqual(['BYPASS', { n: 4 }]);
  });

  it('BYPASS for writes, which always reach the upstream', async () => {
    const gw = gatewayWith(counting());
    for (let i = 0; i < 2; i++) {
      const response = await gw.call('/w', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(xcache(response)).toBe('BYPASS');
    }
    expect(gw.calls).toHaveLength(2);
  });

  const uncacheable: [string, Upstream][] = [
    ['Set-Cookie', async () => Response.json({ ok: 1 }, { headers: { 'set-cookie': 'session=1' } })],
    ['Cache-Control: no-store', async () => Response.json({ ok: 1 }, { headers: { 'cache-control': 'no-store' } })],
    ['Cache-Control: private', async () => Response.json({ ok: 1 }, { headers: { 'cache-control': 'private, max-age=60' } })],
    ['Vary: * (or a header the key does not hold)', async () => Response.json({ ok: 1 }, { headers: { vary: 'Authorization' } })],
    ['a 404', async () => Response.json({ type: '/problems/not-found', instance: '/x', requestId: crypto.randomUUID() }, { status: 404 })],
    ['a 500', async () => new Response('broken', { status: 500 })],
  ];
  it.each(uncacheable)('MISS and not stored: an answer with %s', async (_what, upstream) => {
    const gw = gatewayWith(upstream);
    for (let i = 0; i < 2; i++) expect(xcache(await gw.call('/u'))).toBe('MISS');
    expect(gw.calls).toHaveLength(2);
  });

  it('MISS and not stored: a body over 256 KiB, which still reaches the caller whole', async () => {
    const big = 'x'.repeat(300 * 1024);
    const gw = gatewayWith(async () => new Response(big, { headers: { 'content-type': 'text/plain' } }));
    for (let i = 0; i < 2; i++) {
      const response = await gw.call('/big');
      expect(xcache(response)).toBe('MISS');
      expect((await response.text()).length).toBe(big.length);
    }
    expect(gw.calls).toHaveLength(2);
  });

  it('never stores a fallback answer: the next request after the failure is a MISS for the real answer', async () => {
    const time = clock();
    let healthy = true;
    let n = 0;
    const gw = gatewayWith(async () => (healthy ? Response.json({ n: ++n }) : new Response('down', { status: 503 })), {}, { fallback: [{ kind: 'last-good' }] });
    expect(xcache(await gw.call('/f'))).toBe('MISS');
    // Past TTL + swr: the cache has nothing servable, the upstream fails, the fallback answers.
    time.advance(100);
    healthy = false;
    const fallback = await gw.call('/f');
    expect([xcache(fallback), fallback.headers.get('x-fallback'), await body(fallback)]).toEqual(['MISS', 'last-good', { n: 1 }]);
    healthy = true;
    const real = await gw.call('/f');
    expect([xcache(real), real.headers.has('x-fallback'), await body(real)]).toEqual(['MISS', false, { n: 2 }]);
    expect(xcache(await gw.call('/f'))).toBe('HIT');
  });

  it('a problem thrown on the way (no fallback) carries x-cache too', async () => {
    const gw = gatewayWith(async () => Promise.reject(new Error('connection refused')));
    const response = await gw.call('/down');
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(xcache(response)).toBe('MISS');
  });

  it('BYPASS for everything when CACHE_ENABLED is false', async () => {
    const gw = gatewayWith(counting(), {}, {}, { CACHE_ENABLED: 'false' });
    for (let i = 0; i < 2; i++) expect(xcache(await gw.call('/x'))).toBe('BYPASS');
    expect(gw.calls).toHaveLength(2);
  });
});

describe('request coalescing', () => {
  it('20 concurrent requests for one key: one reaches the upstream, all 20 get the whole body', async () => {
    const held = deferred();
    const payload = { items: Array.from({ length: 2000 }, (_, i) => ({ id: `p${i}`, name: `product ${i}` })) };
    const expected = JSON.stringify(payload);
    const gw = gatewayWith(async () => {
      await held.promise;
      return Response.json(payload);
    });
    const requests = Array.from({ length: 20 }, () => gw.call('/popular'));
    // Every request has reached the cache and the leader the upstream; then the upstream answers.
    await expect.poll(() => gw.arrived() === 20 && gw.calls.length === 1).toBe(true);
    held.resolve();
    const responses = await Promise.all(requests);
    expect(gw.calls).toHaveLength(1);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    for (const text of bodies) expect(text).toBe(expected);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const labels = responses.map(xcache).sort();
    expect(labels).toEqual(['MISS', ...Array(19).fill('HIT')].sort());
  });

  it('followers make their own calls when the leader’s answer may not be shared (an error)', async () => {
    const held = deferred();
    let n = 0;
    const gw = gatewayWith(async () => {
      if (++n === 1) {
        await held.promise;
        return new Response('busy', { status: 500 });
      }
      return Response.json({ n });
    });
    const requests = Array.from({ length: 3 }, () => gw.call('/e'));
    await expect.poll(() => gw.arrived() === 3 && gw.calls.length === 1).toBe(true);
    held.resolve();
    const statuses = (await Promise.all(requests)).map((r) => r.status).sort();
    // Not the leader's 500: each follower went on by itself (the second may find the first's answer stored).
    expect(statuses).toEqual([200, 200, 500]);
    expect(gw.calls.length).toBeGreaterThanOrEqual(2);
  });
});

describe('tag invalidation', () => {
  it('a purge is seen at once by the isolate that made it and within a second by the others', async () => {
    const time = clock();
    let version = 1;
    const gw = gatewayWith(async (request) => (request.method === 'PUT' ? Response.json({ ok: true }) : Response.json({ version })), {
      tags: (path) => [`thing:${path.split('/').pop()}`],
      invalidates: ({ upstreamPath }) => [`thing:${upstreamPath.split('/').pop()}`],
    });
    const other = gw.isolate();
    expect(xcache(await gw.call('/things/1'))).toBe('MISS');
    expect(xcache(await other.call('/things/1'))).toBe('HIT');
    expect(xcache(await gw.call('/things/2'))).toBe('MISS');

    version = 2;
    const put = await gw.call('/things/1', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([put.status, xcache(put)]).toEqual([200, 'BYPASS']);
    // This isolate: at once.
    const mine = await gw.call('/things/1');
    expect([xcache(mine), await mine.json()]).toEqual(['MISS', { version: 2 }]);
    // Another tag is untouched.
    expect(xcache(await gw.call('/things/2'))).toBe('HIT');
    // The other isolate trusts the versions it read for up to a second...
    time.advance(0.5);
    const otherSoon = await other.call('/things/1');
    expect(['MISS', 'HIT']).toContain(xcache(otherSoon));
    // ...and past it reads them again: the answer stored before the purge is never served there again.
    time.advance(0.6);
    const otherLater = await other.call('/things/1');
    expect(await otherLater.json()).toEqual({ version: 2 });
  });

  it('a write that fails purges nothing', async () => {
    const gw = gatewayWith(async (request) => (request.method === 'PUT' ? new Response('no', { status: 409 }) : Response.json({ ok: 1 })), {
      tags: ['t'],
      invalidates: () => ['t'],
    });
    expect(xcache(await gw.call('/a'))).toBe('MISS');
    expect((await gw.call('/a', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(409);
    expect(xcache(await gw.call('/a'))).toBe('HIT');
  });
});

/**
 * A stand-in for Upstash's REST API at https://redis.test (GET and SET, as @upstash/redis sends
 * them, base64 replies), by intercepting the global fetch the client uses; everything else passes.
 * The real client against a real Redis is tested in test/scripts/upstash-answer-store.test.ts.
 */
function fakeUpstash() {
  const data = new Map<string, { value: string; ex: number }>();
  const state = { down: false, commands: [] as string[] };
  const realFetch = globalThis.fetch.bind(globalThis);
  const base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('https://redis.test')) return realFetch(input, init);
    if (state.down) return Response.json({ error: 'ERR down' }, { status: 500 });
    const [name = '', key = '', value = '', ...options] = JSON.parse(String(init?.body)) as string[];
    state.commands.push(name.toUpperCase());
    if (name.toUpperCase() === 'SET') {
      data.set(key, { value, ex: Number(options[options.findIndex((o) => o.toUpperCase() === 'EX') + 1]) });
      return Response.json({ result: 'OK' });
    }
    const entry = data.get(key);
    return Response.json({ result: entry ? base64(entry.value) : null });
  });
  return { data, state };
}

describe('L2 (Upstash Redis), when configured', () => {
  const l2 = { UPSTASH_REDIS_REST_URL: 'https://redis.test', UPSTASH_REDIS_REST_TOKEN: 'test-token' };

  it('is filled with every stored answer; an L1 miss is answered from L2 and fills L1 again; an L2 outage is only a miss', async () => {
    const redis = fakeUpstash();
    const gw = gatewayWith(counting(), {}, {}, l2);
    const l1Key = `http://stratus.test${CACHE_KEY_PATH}/${gw.route.name}/default/public/-/items`;

    // L1 miss, L2 miss, upstream, stored in both (in Redis for TTL + swr).
    expect(xcache(await gw.call('/items'))).toBe('MISS');
    expect(redis.state.commands).toEqual(['GET', 'SET']);
    expect([...redis.data.values()].map((e) => e.ex)).toEqual([90]);
    // A fresh L1 copy: L2 is not asked.
    expect(xcache(await gw.call('/items'))).toBe('HIT');
    expect(redis.state.commands).toEqual(['GET', 'SET']);

    // Another data centre (an empty L1): answered from L2, no upstream call; L1 filled again.
    expect(await caches.default.delete(new Request(l1Key))).toBe(true);
    const fromL2 = await gw.call('/items');
    expect([xcache(fromL2), await body(fromL2)]).toEqual(['HIT', { n: 1 }]);
    expect(redis.state.commands).toEqual(['GET', 'SET', 'GET']);
    redis.state.down = true;
    const fromL1 = await gw.call('/items');
    expect([xcache(fromL1), await body(fromL1)]).toEqual(['HIT', { n: 1 }]);
    expect(gw.calls).toHaveLength(1);

    // Both empty or down: the upstream answers, nothing fails.
    expect(await caches.default.delete(new Request(l1Key))).toBe(true);
    const miss = await gw.call('/items');
    expect([miss.status, xcache(miss), await body(miss)]).toEqual([200, 'MISS', { n: 2 }]);
  });
});

describe('cache_requests_total', () => {
  it('counts hit, miss, stale and bypass by route on /metrics', async () => {
    const time = clock();
    const gw = gatewayWith(counting());
    await gw.call('/m');
    await gw.call('/m');
    await gw.call('/m');
    await gw.call('/m', { headers: { authorization: 'Bearer x' } });
    time.advance(40);
    await gw.call('/m');
    const text = await gw.metrics();
    const series = (result: string) => `cache_requests_total{result="${result}",route="${routeLabel(gw.route)}"}`;
    expect(text).toContain('# TYPE cache_requests_total counter');
    expect(text).toContain(`${series('miss')} 1`);
    expect(text).toContain(`${series('hit')} 2`);
    expect(text).toContain(`${series('bypass')} 1`);
    expect(text).toContain(`${series('stale')} 1`);
  });
});
