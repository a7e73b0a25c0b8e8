import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayBindings } from '../../../workers/gateway/env';
import gateway from '../../../workers/gateway/index';
import { bearerFor } from '../../support/access-token';
import { callWorker, testEnv } from '../../support/call-worker';

// Every public route is limited: the BFF screens (per caller, in the upstream calls they cause),
// /api/payments, and the operator endpoints (failed tokens per address, failing closed).

const randomIp = () => `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;

/** Every service answers at once with an empty page: the tests are about the edge's counting. */
const upstream = { fetch: async () => Response.json({ items: [], id: 'u1', email: 'a@example.test' }) } as unknown as Fetcher;
// Not USERS: its JWKS verifies the test's access tokens (its /me part may fail alone; the screen is still served).
const services = () => testEnv({ CATALOG: upstream, ORDERS: upstream, PAYMENTS: upstream });

/**
 * The clock held still, a second into a minute (so into a 10 s and a 60 s fixed window alike): the
 * counts below are the limits exactly, with no window boundary falling inside a test (the
 * RateLimiter objects run in this isolate and read the same clock).
 */
// Over a hundred gateway calls in a row, each through real objects: more than the default 5 s on a busy machine.
vi.setConfig({ testTimeout: 30_000 });

beforeEach(() => {
  const now = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  vi.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const statuses = async (n: number, call: () => Promise<Response>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call()).status);
  return out;
};

describe('BFF screens: per caller, counting the upstream calls each makes', () => {
  it('110 anonymous home screens from one address within the window: 100 served (one call each), then 429 with Retry-After', async () => {
    const bindings = services();
    const ip = randomIp();
    const responses: Response[] = [];
    for (let i = 0; i < 110; i++) responses.push(await callWorker(gateway, '/bff/web/home', { headers: { 'cf-connecting-ip': ip } }, bindings));
    expect(responses.slice(0, 100).every((r) => r.status === 200)).toBe(true);
    expect(responses.slice(100).map((r) => r.status)).toEqual(Array(10).fill(429));
    const refused = responses[100]!;
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.headers.get('ratelimit-policy')).toBe('"bff";q=100;w=10');
    expect(responses[0]!.headers.get('ratelimit')).toBe('"bff";r=99;t=9');
    // Another address is a caller of its own.
    expect((await callWorker(gateway, '/bff/mobile/home', { headers: { 'cf-connecting-ip': randomIp() } }, bindings)).status).toBe(200);
  });

  it('a signed-in screen costs its three upstream calls: 33 screens per window, the 34th is refused', async () => {
    const bindings = services();
    const user = await bearerFor(`bff-${crypto.randomUUID()}`, 'customer');
    const codes = await statuses(35, () => callWorker(gateway, '/bff/web/home', { headers: { ...user, 'cf-connecting-ip': randomIp() } }, bindings));
    expect(codes.slice(0, 33)).toEqual(Array(33).fill(200));
    expect(codes.slice(33)).toEqual([429, 429]);
  });

  it('bad tokens are counted by address too: 401 until the limit, then 429', async () => {
    const bindings = services();
    const ip = randomIp();
    const codes = await statuses(102, () => callWorker(gateway, '/bff/web/home', { headers: { authorization: 'Bearer not-a-token', 'cf-connecting-ip': ip } }, bindings));
    expect(codes.slice(0, 100)).toEqual(Array(100).fill(401));
    expect(codes.slice(100)).toEqual([429, 429]);
  });
});

describe('/api/payments is limited per caller', () => {
  it('30 per 10 s, then 429; its answers carry the route’s RateLimit fields', async () => {
    const bindings = services();
    const user = await bearerFor(`pay-${crypto.randomUUID()}`, 'customer');
    const responses: Response[] = [];
    for (let i = 0; i < 31; i++) responses.push(await callWorker(gateway, '/api/payments/p1', { headers: { ...user, 'cf-connecting-ip': randomIp() } }, bindings));
    expect(responses.slice(0, 30).every((r) => r.status !== 429)).toBe(true);
    expect(responses[0]!.headers.get('ratelimit-policy')).toBe('"payments";q=30;w=10');
    expect(responses[30]!.status).toBe(429);
  });
});

describe('/_ops: failed operator tokens limited per address, failing closed', () => {
  const operator = { authorization: 'Bearer test-admin-token' };

  it('60 wrong tokens from one address: 10 are 401, then every one is 429, the right token from there too; another address is unaffected', async () => {
    const ip = randomIp();
    const codes = await statuses(60, () => callWorker(gateway, '/_ops/breakers', { headers: { authorization: `Bearer guess-${Math.random()}`, 'cf-connecting-ip': ip } }));
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(codes.slice(10)).toEqual(Array(50).fill(429));
    const lockedOut = await callWorker(gateway, '/_ops/breakers', { headers: { ...operator, 'cf-connecting-ip': ip } });
    expect(lockedOut.status).toBe(429);
    expect(lockedOut.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect((await callWorker(gateway, '/_ops/breakers', { headers: { ...operator, 'cf-connecting-ip': randomIp() } })).status).toBe(200);
  });

  it('no token is no guess: 12 calls without one from one address are all 401, and the right token still passes', async () => {
    const ip = randomIp();
    expect(await statuses(12, () => callWorker(gateway, '/_ops/routes', { headers: { 'cf-connecting-ip': ip } }))).toEqual(Array(12).fill(401));
    expect((await callWorker(gateway, '/_ops/routes', { headers: { ...operator, 'cf-connecting-ip': ip } })).status).toBe(200);
  }, 30_000);

  it('the right token never counts: 12 operator calls from one address (over the 10 failures) all pass', async () => {
    const ip = randomIp();
    expect(await statuses(12, () => callWorker(gateway, '/_ops/routes', { headers: { ...operator, 'cf-connecting-ip': ip } }))).toEqual(Array(12).fill(200));
  }, 30_000);

  it('a limiter that cannot answer: 503 with Retry-After, the right token included (no free guesses while it is down)', async () => {
    const RATE_LIMITER = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({ lease: () => Promise.reject(new Error('Durable Object is overloaded')) }),
    } as unknown as GatewayBindings['RATE_LIMITER'];
    const bindings = testEnv({ RATE_LIMITER });
    for (const headers of [operator, { authorization: 'Bearer wrong' }]) {
      const response = await callWorker(gateway, '/_ops/breakers', { headers: { ...headers, 'cf-connecting-ip': randomIp() } }, bindings);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ type: '/problems/rate-limiter-unavailable', status: 503 });
    }
  });
});
