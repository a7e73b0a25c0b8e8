import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { createServiceApp } from '../../../shared/middleware/service-app';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { platformOf } from '../../../workers/gateway/platform';
import { addRouteTable } from '../../../workers/gateway/route-table';
import type { OriginPool, OriginRoute, RoutePolicy } from '../../../workers/gateway/routes';
import { runOriginHealthChecks } from '../../../workers/gateway/traffic/origin-health';
import { servedByHeader } from '../../../workers/gateway/traffic/served-by';
import { callWorker, testEnv } from '../../support/call-worker';
import { captureSpans, clientSpansOf } from '../../support/span-capture';

const origins = inject('origins');
type Name = 'a' | 'b' | 'c';

/** Switches a stand-in origin to failing (every request and its /health a 503) or back. */
async function setFailing(name: Name, failing: boolean) {
  const response = await fetch(`${origins[name]}/_mode`, { method: 'POST', body: JSON.stringify({ failing }) });
  expect(response.status).toBe(200);
}

/** Requests the stand-in origin has answered so far. */
const countOf = async (name: Name) => ((await (await fetch(`${origins[name]}/_count`)).json()) as { count: number }).count;

const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

/**
 * A gateway with one pool route over stand-in origins. Each pool gets its own route name (so its
 * own breaker objects) and its own env (so its own isolate-level pool), with the health registry
 * read on every request (ORIGIN_HEALTH_REFRESH_MS 0).
 */
function poolGateway(pool: Omit<OriginPool, 'origins'> & { origins: { name: Name; weight?: number }[] }, policy: Omit<RoutePolicy, 'auth'> = {}, vars: Partial<Cloudflare.Env> = {}) {
  const route: OriginRoute = {
    name: `pool-${crypto.randomUUID().slice(0, 8)}`,
    prefix: '/pool',
    upstreamPrefix: '',
    pool: { ...pool, origins: pool.origins.map((origin) => ({ ...origin, url: origins[origin.name] })) },
    policy: { auth: 'none', retry: fastRetry, ...policy },
  };
  const app = createServiceApp<GatewayBindings>({ service: 'gateway' });
  app.use(servedByHeader);
  addRouteTable(app, [route]);
  const routeEnv = testEnv({ ORIGIN_HEALTH_REFRESH_MS: '0', ...vars });
  return {
    route,
    call: (path = '/pool/items', init: RequestInit = {}) => callWorker(app, path, init, routeEnv),
    /** The cron's work for this pool: every origin's GET /health into the registry. */
    checkHealth: () => runOriginHealthChecks([{ route, origins: route.pool.origins }], platformOf(routeEnv).originHealth),
    breaker: (name: Name) => env.BREAKERS.get(env.BREAKERS.idFromName(`${route.name}~${name}`)),
  };
}

/** Which origin answered each of `n` requests (the gateway names it in x-served-by). */
async function servedBy(gw: ReturnType<typeof poolGateway>, n: number, init?: (i: number) => RequestInit): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    const response = await gw.call('/pool/items', init?.(i));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { origin: string };
    expect(response.headers.get('x-served-by')).toBe(body.origin);
    answers.push(body.origin);
  }
  return answers;
}

/**
 * The same, but an answer that is not a 200 is `failed` instead of failing the test: for a loop that
 * polls until the pool behaves, where a request that reaches c while this isolate still trusts an
 * older health snapshot (its registry read missed the deadline on a busy machine) may fail.
 */
async function servedByOrFailed(gw: ReturnType<typeof poolGateway>, n: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    const response = await gw.call('/pool/items');
    answers.push(response.status === 200 ? ((await response.json()) as { origin: string }).origin : 'failed');
  }
  return answers;
}

const tally = (names: string[]) => names.reduce<Record<string, number>>((counts, name) => ({ ...counts, [name]: (counts[name] ?? 0) + 1 }), {});

describe('an HTTP origin pool', () => {
  it('splits traffic by the weights while every origin is healthy (smooth weighted: exactly 3:1 in every 4 picks)', async () => {
    const gw = poolGateway({ balancer: 'smooth-weighted', origins: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] });
    const answers = await servedBy(gw, 24);
    expect(tally(answers)).toEqual({ a: 18, b: 6 });
    // Spread out, not bunched: b once in every window of four.
    for (let i = 0; i < 24; i += 4) expect(answers.slice(i, i + 4).filter((name) => name === 'b')).toHaveLength(1);
  });

  it('least outstanding favours the heavier origin among idle ones, within a statistical bound', async () => {
    // Least outstanding with sequential requests: every origin is idle, so the sampled pair ties and
    // the weight decides ((0+1)/3 < (0+1)/1): a wins whenever it is sampled, 2 of 3 pairs.
    const gw = poolGateway({ balancer: 'least-outstanding', origins: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }] });
    const counts = tally(await servedBy(gw, 60));
    // Expected a: 40 of 60 (binomial sd ~3.7); six sd either side never fails by chance.
    expect(counts.a).toBeGreaterThanOrEqual(18);
    expect(counts.a).toBeLessThanOrEqual(60);
    expect((counts.b ?? 0) + (counts.c ?? 0)).toBe(60 - counts.a!);
  });

  it('sends one caller to one origin with consistent hashing by user (the visitor cookie when anonymous), and spreads callers', async () => {
    const gw = poolGateway({ balancer: 'consistent-hash', hashBy: 'user', origins: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    const users = Array.from({ length: 8 }, () => crypto.randomUUID());
    const seen = new Set<string>();
    for (const user of users) {
      const answers = await servedBy(gw, 3, () => ({ headers: { cookie: `stratus_uid=${user}` } }));
      expect(new Set(answers).size).toBe(1);
      seen.add(answers[0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('keeps a key on its origin by rendezvous hashing of a named cookie', async () => {
    const gw = poolGateway({ balancer: 'rendezvous', hashBy: 'cookie', hashCookie: 'sid', origins: [{ name: 'a' }, { name: 'b' }] });
    for (const sid of ['s-1', 's-2', 's-3', 's-4']) {
      const answers = await servedBy(gw, 3, () => ({ headers: { cookie: `sid=${sid}` } }));
      expect(new Set(answers).size).toBe(1);
    }
  });

  it('sends everything to the healthy origin once the failing one is out (breaker open, health check failed), and takes it back when healthy', async () => {
    await setFailing('c', true);
    try {
      const gw = poolGateway(
        { balancer: 'round-robin', origins: [{ name: 'a' }, { name: 'c' }] },
        { breaker: { minimumCalls: 3, failureRateThreshold: 50, openDurationMs: 400, halfOpenMaxCalls: 1 } },
      );
      // Every caller gets a 200: an attempt on c fails (503) and is retried on a.
      const first = await servedBy(gw, 8);
      expect(new Set(first)).toEqual(new Set(['a']));
      expect((await gw.breaker('c').current()).state).toBe('open');
      // The cron's health check finds c down: from now on it gets nothing, breaker period or not.
      const snapshot = await gw.checkHealth();
      expect(snapshot[`${gw.route.name}~c`]).toMatchObject({ status: 'down', httpStatus: 503 });
      expect(snapshot[`${gw.route.name}~a`]).toMatchObject({ status: 'up', httpStatus: 200 });
      // Twenty requests in a row that all reach a and none c. Polled: on a loaded machine a read of
      // the registry can miss its 250 ms deadline, and the isolate then keeps its last snapshot.
      let clean = false;
      for (const deadline = Date.now() + 10_000; !clean && Date.now() < deadline; ) {
        const [before, beforeA] = [await countOf('c'), await countOf('a')];
        const answers = await servedByOrFailed(gw, 20);
        clean = answers.every((name) => name === 'a') && (await countOf('c')) === before && (await countOf('a')) - beforeA === 20;
      }
      expect(clean).toBe(true);

      // c recovers and passes its health check: once its breaker's open period is over, a probe
      // reaches it, closes the breaker, and it takes its turn again.
      await setFailing('c', false);
      expect((await gw.checkHealth())[`${gw.route.name}~c`]).toMatchObject({ status: 'up' });
      const deadline = Date.now() + 5_000;
      let back = false;
      while (!back && Date.now() < deadline) back = (await servedBy(gw, 1)).includes('c');
      expect(back).toBe(true);
      expect(tally(await servedBy(gw, 10))).toEqual({ a: 5, c: 5 });
    } finally {
      await setFailing('c', false);
    }
  });

  it('answers a clear 503 problem when every origin is unhealthy', async () => {
    await setFailing('c', true);
    try {
      const gw = poolGateway({ balancer: 'round-robin', origins: [{ name: 'c' }] }, { retry: false });
      await gw.checkHealth();
      // Polled for the same reason as above: a registry read that misses its deadline lets c try (its own 503).
      let response = await gw.call();
      for (const deadline = Date.now() + 5_000; response.headers.get('content-type') !== 'application/problem+json' && Date.now() < deadline; ) {
        await response.body?.cancel();
        response = await gw.call();
      }
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const problem = (await response.json()) as { type: string; detail: string };
      expect(problem.type).toMatch(/no-healthy-origin$/);
      expect(problem.detail).toContain('Every origin of the');
    } finally {
      await setFailing('c', false);
    }
  });

  it('proxies as to a service: request id and trace propagated, hop-by-hop and gateway-only headers dropped, credentials kept for the origin', async () => {
    const gw = poolGateway({ balancer: 'round-robin', origins: [{ name: 'b' }] });
    const response = await gw.call('/pool/some/path?x=1', {
      headers: {
        'x-request-id': 'pool-req-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        authorization: 'Bearer legacy-session',
        'x-stratus-service-token': 'forged',
        'x-forwarded-for': '198.51.100.1',
        'cf-connecting-ip': '203.0.113.9',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('pool-req-1');
    const seen = (await response.json()) as { path: string; search: string; headers: Record<string, string> };
    expect(seen.path).toBe('/some/path');
    expect(seen.search).toBe('?x=1');
    expect(seen.headers['x-request-id']).toBe('pool-req-1');
    expect(seen.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(seen.headers.authorization).toBe('Bearer legacy-session');
    expect(seen.headers['x-stratus-service-token']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9');
    expect(seen.headers['x-forwarded-prefix']).toBe('/pool');
  });

  it('makes each attempt on an origin a CLIENT span of the request, named by the origin, which the origin continues from', async () => {
    const capture = captureSpans();
    try {
      const gw = poolGateway({ balancer: 'round-robin', origins: [{ name: 'b' }] }, {}, capture.bindings);
      const response = await gw.call('/pool/traced');
      expect(response.status).toBe(200);
      const seen = (await response.json()) as { headers: Record<string, string> };
      const attempts = clientSpansOf(capture.spans, 'gateway', 'GET /pool/*');
      expect(attempts.map((s) => [s.name, s.attributes['upstream.origin'], s.attributes['url.path'], s.attributes['http.response.status_code']])).toEqual([['GET b', 'b', '/traced', 200]]);
      expect(seen.headers.traceparent).toBe(`00-${attempts[0]!.traceId}-${attempts[0]!.spanId}-01`);
    } finally {
      capture.restore();
    }
  });
});

