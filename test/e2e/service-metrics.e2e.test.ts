import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json, testEnv } from '../support/call-worker';

/**
 * Every service's own RED metrics, and the calls it makes, on the gateway's /metrics (read from
 * each service's MetricsStore over its binding at scrape time); and the synthetic user's check,
 * run by the gateway's cron, with its steps counted there too.
 */

/** The value of one series in a Prometheus text page, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
const metrics = async (gw?: Cloudflare.Env) => (await callWorker(gateway, '/metrics', {}, gw)).text();

beforeAll(async () => {
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_red_1', 'Bottle', '', 1500, 'USD', 900)",
  );
});

describe("services' own metrics on /metrics", () => {
  it('counts a request as the catalog saw it, by its route pattern, not the path', async () => {
    const series = 'service_requests_total{method="GET",route="/products/:id",service="catalog",status="200"}';
    const before = sample(await metrics(), series);
    expect((await callWorker(gateway, '/api/catalog/products/prod_red_1', { headers: { 'cache-control': 'no-cache' } })).status).toBe(200);
    const after = await metrics();
    expect(sample(after, series)).toBeGreaterThan(before);
    expect(sample(after, 'service_request_duration_seconds_count{method="GET",route="/products/:id",service="catalog"}')).toBeGreaterThan(0);
    expect(after).toContain('# TYPE service_call_duration_seconds histogram');
    expect(after).not.toContain('route="/products/prod_red_1"');
  });

  it("times the order saga's calls to catalog and payments", async () => {
    const ok = (to: string) => `service_call_duration_seconds_count{from="orders",outcome="ok",to="${to}"}`;
    const before = await metrics();
    const auth = await bearerFor('usr_red_buyer', 'customer');
    const placed = await callWorker(gateway, '/api/orders', json({ items: [{ productId: 'prod_red_1', quantity: 1 }] }, { ...auth, 'idempotency-key': `red-${crypto.randomUUID()}` }));
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { status } = (await (await callWorker(gateway, `/api/orders/${orderId}`, { headers: auth })).json()) as { status: string };
      if (status === 'COMPLETED') break;
      if (Date.now() > deadline || status === 'CANCELLED') throw new Error(`order ended ${status}`);
      await scheduler.wait(25);
    }
    const after = await metrics();
    expect(sample(after, ok('catalog')) - sample(before, ok('catalog'))).toBeGreaterThanOrEqual(2); // reserve, commit
    expect(sample(after, ok('payments')) - sample(before, ok('payments'))).toBeGreaterThanOrEqual(1);
  });
});

describe('the synthetic user', () => {
  it('logs in, reads the catalog, orders and waits for COMPLETED when the gateway cron runs, each step on /metrics', async () => {
    const gw = testEnv({ SYNTHETIC_EMAIL: 'demo@example.com', SYNTHETIC_PASSWORD: 'demo-password-123' });
    const check = 'synthetic_check_total{result="success",step="check"}';
    const before = sample(await metrics(gw), check);
    const ran = await callWorker(gateway, '/_ops/crons/gateway', json({ cron: '* * * * *' }, { authorization: 'Bearer test-admin-token' }), gw);
    expect(ran.status).toBe(200);
    const body = (await ran.json()) as { synthetic: { ok: boolean; orderId?: string; failedStep?: string; detail?: string } };
    expect(body.synthetic).toMatchObject({ ok: true });
    const after = await metrics(gw);
    expect(sample(after, check) - before).toBe(1);
    for (const step of ['login', 'catalog', 'order', 'complete']) expect(sample(after, `synthetic_check_total{result="success",step="${step}"}`)).toBeGreaterThan(0);
    expect(sample(after, 'synthetic_check_duration_seconds_count{step="complete"}')).toBeGreaterThan(0);
  });

  it('counts a failed step, and stops there', async () => {
    const gw = testEnv({ SYNTHETIC_EMAIL: 'demo@example.com', SYNTHETIC_PASSWORD: 'not-the-password' });
    const failed = 'synthetic_check_total{result="failure",step="login"}';
    const before = await metrics(gw);
    const ran = await callWorker(gateway, '/_ops/crons/gateway', json({}, { authorization: 'Bearer test-admin-token' }), gw);
    expect(((await ran.json()) as { synthetic: unknown }).synthetic).toMatchObject({ ok: false, failedStep: 'login', detail: 'HTTP 401' });
    const after = await metrics(gw);
    expect(sample(after, failed) - sample(before, failed)).toBe(1);
    expect(sample(after, 'synthetic_check_total{result="success",step="order"}')).toBe(sample(before, 'synthetic_check_total{result="success",step="order"}'));
  });
});
