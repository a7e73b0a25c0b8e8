import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { callWorker, ownAddress, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';
import { bearerFor } from '../support/access-token';

// The operator (ADMIN_TOKEN) for /_ops; an admin user's access token for the API.
const admin = { authorization: 'Bearer test-admin-token' };
let adminUser: { authorization: string };

// Short periods so the breaker goes round closed → open → half-open → closed within a test.
const policies = { catalog: { retry: false, timeoutMs: 300, breaker: { minimumCalls: 4, openDurationMs: 400, halfOpenMaxCalls: 2 } } };
// The response cache off: these tests watch every request reach the upstream guard (a cached answer
// would be served while the breaker is open, and without the added latency).
const chaosAllowed = () => testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify(policies), CACHE_ENABLED: 'false' });

interface Breakers {
  [upstream: string]: { state: string; failureRate: number | null; calls: number; openedAt?: string; nextProbeAt?: string };
}

const chaos = (gw: Cloudflare.Env, service: string, body: unknown) =>
  callWorker(gateway, `/_ops/chaos/${service}`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(body) }, gw);
const breakers = async (gw: Cloudflare.Env) => (await (await callWorker(gateway, '/_ops/breakers', { headers: admin }, gw)).json()) as Breakers;
const metrics = async (gw: Cloudflare.Env) => (await callWorker(gateway, '/metrics', {}, gw)).text();
const asOps = (service: string) => asGateway(service, null, { scope: 'ops' });
const serviceChaos = async (service: Fetcher, name = 'catalog') =>
  ((await (await service.fetch('https://service.internal/_chaos', { headers: await asOps(name) })).json()) as { chaos: unknown }).chaos;

beforeAll(async () => {
  adminUser = await bearerFor('usr_admin_res', 'customer', 'admin');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_res_1', 'Rain Jacket', 'dry', 8900, 'USD', 3)",
  );
});

// Chaos lives in each service's Durable Object and the breakers in the gateway's: both outlast a
// test, and the project's other files (sharing this runtime) leave calls in the breakers' windows.
async function calmEverything() {
  await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asOps('catalog') });
  await env.PAYMENTS.fetch('https://payments.internal/_chaos', { method: 'DELETE', headers: await asOps('payments') });
  for (const upstream of ['catalog', 'payments', 'users']) await env.BREAKERS.get(env.BREAKERS.idFromName(upstream)).reset();
}
beforeEach(calmEverything);
afterEach(calmEverything);

describe('chaos on the catalog, and the gateway protecting everyone else', () => {
  it('opens the breaker within minimumCalls failures, answers fast with fallbacks or 503, and closes once chaos is off', async () => {
    const gw = chaosAllowed();
    // Healthy first: the gateway keeps this answer (last-good) and the most viewed list (degraded).
    expect((await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw)).status).toBe(200);

    const on = await chaos(gw, 'catalog', { failureRate: 1 });
    expect(on.status).toBe(200);
    expect(await on.json()).toEqual({ service: 'catalog', chaos: { failureRate: 1, status: 503, latencyMs: 0, hang: false } });

    // Paths with nothing cached: the catalog's own chaos answer comes through, counted as failures.
    // With the good call before, three failures make minimumCalls (4) at 75%: the breaker opens.
    for (let i = 0; i < 3; i++) {
      const failed = await callWorker(gateway, `/api/catalog/products/nothing-cached-${i}`, {}, gw);
      expect(failed.status).toBe(503);
      expect(((await failed.json()) as { type: string }).type).toBe('/problems/chaos');
    }
    const open = (await breakers(gw)).catalog;
    expect(open).toMatchObject({ state: 'open', calls: 4, failureRate: 0.75 });
    expect(Date.parse(open?.nextProbeAt ?? '') - Date.parse(open?.openedAt ?? '')).toBe(400);

    // Open: the catalog is not called; the gateway answers on its own.
    const refused = await callWorker(gateway, '/api/catalog/products/nothing-cached-9', {}, gw);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/circuit-open');
    // A new isolate (its own env, so its own cache) learns the state first and refuses too.
    const freshIsolate = await callWorker(gateway, '/api/catalog/products/nothing-cached-8', {}, chaosAllowed());
    expect(((await freshIsolate.json()) as { type: string }).type).toBe('/problems/circuit-open');
    const lastGood = await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw);
    expect(lastGood.status).toBe(200);
    expect(lastGood.headers.get('x-fallback')).toBe('last-good');
    expect(lastGood.headers.get('x-fallback-reason')).toBe('circuit-open');
    expect(await lastGood.json()).toMatchObject({ id: 'prod_res_1', name: 'Rain Jacket' });
    const degraded = await callWorker(gateway, '/api/catalog/products?limit=5', {}, gw);
    expect(degraded.status).toBe(200);
    expect(degraded.headers.get('x-fallback')).toBe('degraded');
    expect(((await degraded.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    // A search is not answered with the most viewed list: it would not be what was asked.
    expect((await callWorker(gateway, '/api/catalog/products?q=jacket', {}, gw)).status).toBe(503);

    const scrape = await metrics(gw);
    // Open, or already half-open: the open period here is 400 ms and a scrape reads every service.
    // The transition count says it opened exactly once.
    expect(scrape).toMatch(/^circuit_breaker_state\{upstream="catalog"\} [12]$/m);
    expect(scrape).toContain('circuit_breaker_transitions_total{from="closed",to="open",upstream="catalog"} 1');
    expect(scrape).toContain('circuit_breaker_state{upstream="payments"} 0');

    expect((await callWorker(gateway, '/_ops/chaos/catalog', { method: 'DELETE', headers: admin }, gw)).status).toBe(204);
    // After the open period, requests go through as probes; two good ones close it.
    await expect
      .poll(
        async () => {
          const response = await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw);
          return response.headers.has('x-fallback') ? 'fallback' : (await breakers(gw)).catalog?.state;
        },
        { timeout: 5_000, interval: 50 },
      )
      .toBe('closed');
    expect(await metrics(gw)).toMatch(/circuit_breaker_transitions_total\{from="half-open",to="closed",upstream="catalog"\} 1/);
    expect((await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw)).headers.has('x-fallback')).toBe(false);
  });

  it('cuts a hanging catalog at the route timeout with a 504', async () => {
    const gw = chaosAllowed();
    expect((await chaos(gw, 'catalog', { failureRate: 1, hang: true })).status).toBe(200);
    const started = Date.now();
    const response = await callWorker(gateway, '/api/catalog/products/hangs', {}, gw);
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(((await response.json()) as { type: string }).type).toBe('/problems/gateway-timeout');
    // Cut at the 300 ms deadline, not left to hang.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('adds latency without failing anything', async () => {
    const gw = chaosAllowed();
    await chaos(gw, 'catalog', { failureRate: 0, latencyMs: 100 });
    const started = Date.now();
    expect((await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect((await breakers(gw)).catalog?.state).toBe('closed');
  });
});

describe('/_ops guards', () => {
  it('refuses without the admin token, with 401 and WWW-Authenticate', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong', 'cf-connecting-ip': ownAddress() }] as Record<string, string>[]) {
      const response = await callWorker(gateway, '/_ops/breakers', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('refuses chaos unless ALLOW_CHAOS is true, and changes nothing', async () => {
    const response = await callWorker(gateway, '/_ops/chaos/catalog', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: '{"failureRate":1}' });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { type: string }).type).toBe('/problems/chaos-disabled');
    expect((await callWorker(gateway, '/_ops/chaos/catalog', { method: 'DELETE', headers: admin })).status).toBe(403);
    expect(await serviceChaos(env.CATALOG)).toBeNull();
  });

  it('404 for a service it does not know; 400 for settings that are not valid, changing nothing', async () => {
    const gw = chaosAllowed();
    expect((await chaos(gw, 'nope', { failureRate: 1 })).status).toBe(404);
    for (const bad of [{ failureRate: 50 }, { failureRate: 1, status: 302 }, { failureRate: 1, latencyMs: -1 }, { hang: true }]) {
      const response = await chaos(gw, 'catalog', bad);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await serviceChaos(env.CATALOG)).toBeNull();
  });

  it('never publishes a service’s chaos switch or health endpoints through its route, however the path is spelt', async () => {
    const gw = chaosAllowed();
    // Even with an ops token a client made itself: the gateway strips it.
    const put = { method: 'PUT', headers: { 'content-type': 'application/json', ...(await asOps('catalog')) }, body: '{"failureRate":1}' };
    for (const path of ['/_chaos', '/%5Fchaos', '/%5fchaos', '/_chaos/', '/_ch%61os']) {
      expect([path, (await callWorker(gateway, `/api/catalog${path}`, put, gw)).status]).toEqual([path, 404]);
    }
    for (const path of ['/ready', '/r%65ady', '/health', '/%68ealth']) {
      expect([path, (await callWorker(gateway, `/api/catalog${path}`, {}, gw)).status]).toEqual([path, 404]);
    }
    expect((await callWorker(gateway, '/api/catalog/%E0%A4%A', {}, gw)).status).toBe(400);
    expect(await serviceChaos(env.CATALOG)).toBeNull();
  });

  it('shows every upstream’s breaker, each with its own policy', async () => {
    const all = await breakers(chaosAllowed());
    // The JWKS route has no breaker of its own (routes.ts): the users route's covers that service.
    // The catalog's canary (its v2) has its own, so a failing canary is cut off alone.
    expect(Object.keys(all).sort()).toEqual(['catalog', 'catalog@v2', 'ledger', 'notifications', 'orders', 'payments', 'users']);
    expect(all.payments).toMatchObject({ state: 'closed', failureRate: 0, calls: 0 });
  });
});

describe('payments: a second upstream with its own, stricter policy', () => {
  const charge = (gw: Cloudflare.Env, key: string) =>
    callWorker(
      gateway,
      '/api/payments/charges',
      { method: 'POST', headers: { ...adminUser, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ orderId: 'ord_res', amountCents: 700, currency: 'EUR' }) },
      gw,
    );

  it('charges once per Idempotency-Key through the gateway, and its problems name the public path', async () => {
    const gw = chaosAllowed();
    const first = await charge(gw, 'res-charge-1');
    expect(first.status).toBe(201);
    const again = await charge(gw, 'res-charge-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    const missing = await callWorker(gateway, '/api/payments/pay_missing', { headers: adminUser }, gw);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { instance: string }).instance).toBe('/api/payments/pay_missing');
  });

  it('requires a caller: 401 with WWW-Authenticate, and the service is not called', async () => {
    const response = await callWorker(gateway, '/api/payments?orderId=ord_res');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('opens only the payments breaker under payments chaos, with no fallback for money, while the catalog keeps answering', async () => {
    const gw = chaosAllowed();
    expect((await chaos(gw, 'payments', { failureRate: 1, status: 500 })).status).toBe(200);
    // minimumCalls 5 at a 25% threshold: five failed reads open it.
    for (let i = 0; i < 5; i++) expect((await callWorker(gateway, `/api/payments?orderId=o${i}`, { headers: adminUser }, gw)).status).toBe(500);
    const refused = await callWorker(gateway, '/api/payments?orderId=o1', { headers: adminUser }, gw);
    expect(refused.status).toBe(503);
    expect(refused.headers.has('x-fallback')).toBe(false);
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/circuit-open');
    // The payments breaker probes again after 30 s (its own openDurationMs), not the catalog's.
    const all = await breakers(gw);
    expect(Date.parse(all.payments?.nextProbeAt ?? '') - Date.parse(all.payments?.openedAt ?? '')).toBe(30_000);
    expect(all.catalog?.state).toBe('closed');
    expect((await callWorker(gateway, '/api/catalog/products/prod_res_1', {}, gw)).status).toBe(200);
  });
});
