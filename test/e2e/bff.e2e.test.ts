import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';

interface Part {
  status: 'ok' | 'unavailable';
  data?: unknown;
  reason?: string;
}

let demo: { authorization: string };

beforeAll(async () => {
  // The seeded demo user (test/e2e/apply-migrations.ts), so /me finds a profile.
  demo = await bearerFor('usr_demo', 'customer', 'admin');
  const rows = Array.from({ length: 6 }, (_, i) => `('prod_bff_${i}', 'Item ${i}', 'described', ${(i + 1) * 100}, 'EUR', 5)`).join(', ');
  await env.TEST_CATALOG_DB.exec(`INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ${rows}`);
});

afterEach(async () => {
  await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asGateway('catalog', null, { scope: 'ops' }) });
  await env.BREAKERS.get(env.BREAKERS.idFromName('catalog')).reset();
});

const home = async (screen: 'web' | 'mobile', headers: Record<string, string> = {}, gw?: Cloudflare.Env) => {
  const response = await callWorker(gateway, `/bff/${screen}/home`, { headers }, gw);
  return { response, body: (await response.json()) as { featured: Part; profile: Part | null; recentOrders: Part | null } };
};

describe('backend for frontend: one call composes the home screen', () => {
  it('web: the most viewed products and, for a signed-in caller, the profile, in parallel', async () => {
    const { response, body } = await home('web', demo);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(body.featured.status).toBe('ok');
    expect((body.featured.data as { id: string; description: string }[])[0]).toHaveProperty('description');
    expect(body.profile).toMatchObject({ status: 'ok', data: { id: 'usr_demo', email: 'demo@example.com' } });
  });

  it('anonymous: no profile part at all', async () => {
    const { response, body } = await home('web');
    expect(response.status).toBe(200);
    expect(body.profile).toBeNull();
    expect(body.recentOrders).toBeNull();
  });

  it("web: a signed-in caller's recent orders, from the orders read model", async () => {
    await env.TEST_ORDERS_DB.prepare(
      "INSERT OR REPLACE INTO order_summaries (order_id, user_id, status, total_cents, currency, item_count, placed_at, settled_at) VALUES ('ord_bff_1', 'usr_demo', 'COMPLETED', 4200, 'USD', 2, '2026-11-01T10:00:00.000Z', '2026-11-01T10:00:01.000Z')",
    ).run();
    const { body } = await home('web', demo);
    expect(body.recentOrders).toMatchObject({ status: 'ok', data: expect.arrayContaining([expect.objectContaining({ orderId: 'ord_bff_1', status: 'COMPLETED', totalCents: 4200 })]) });
    const mobile = await home('mobile', demo);
    expect(mobile.body.recentOrders?.status).toBe('ok');
    expect(Object.keys((mobile.body.recentOrders?.data as Record<string, unknown>[])[0] ?? {}).sort()).toEqual(['currency', 'orderId', 'status', 'totalCents']);
  });

  it('mobile: the same parts, trimmed to what a phone shows', async () => {
    const { body } = await home('mobile', demo);
    const featured = body.featured.data as Record<string, unknown>[];
    expect(featured.length).toBeLessThanOrEqual(4);
    expect(Object.keys(featured[0] ?? {}).sort()).toEqual(['currency', 'id', 'name', 'priceCents']);
    expect(body.profile).toEqual({ status: 'ok', data: { name: 'Demo User' } });
  });

  it('when the catalog fails, the profile is still answered and the catalog part says it is unavailable', async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify({ catalog: { retry: false } }) });
    const chaos = await callWorker(
      gateway,
      '/_ops/chaos/catalog',
      { method: 'PUT', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: '{"failureRate":1}' },
      gw,
    );
    expect(chaos.status).toBe(200);
    const { response, body } = await home('web', demo, gw);
    expect(response.status).toBe(200);
    expect(body.featured).toMatchObject({ status: 'unavailable', reason: 'catalog answered 503' });
    expect(body.profile).toMatchObject({ status: 'ok', data: { id: 'usr_demo' } });
  });

  it('a slow part is cut at its own deadline and the rest still comes back', async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true' });
    await callWorker(
      gateway,
      '/_ops/chaos/catalog',
      { method: 'PUT', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: '{"failureRate":0,"latencyMs":3000}' },
      gw,
    );
    const started = Date.now();
    const { body } = await home('mobile', demo, gw);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(body.featured).toMatchObject({ status: 'unavailable', reason: 'no answer within 800 ms' });
    expect(body.profile?.status).toBe('ok');
  });

  it('502 only when every part failed', async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify({ catalog: { retry: false } }) });
    await callWorker(
      gateway,
      '/_ops/chaos/catalog',
      { method: 'PUT', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: '{"failureRate":1}' },
      gw,
    );
    const { response } = await home('web', {}, gw);
    expect(response.status).toBe(502);
  });
});
