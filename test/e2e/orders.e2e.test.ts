import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json } from '../support/call-worker';
import { qstashDelivery } from '../support/qstash-signature';

/**
 * Orders through the real gateway (edge auth, the orders route, its rate limit and resilience)
 * to the real orders worker, whose saga calls the real catalog and payments; and QStash
 * deliveries through POST /hooks/<consumer> to the consumers, signed as QStash signs them. No
 * broker runs here: the end-to-end flow through the local QStash is test/system's.
 */
const HOOKS = 'http://127.0.0.1:8787';
const SIGNING_KEY = 'sig_test_current_key';
let alice: { authorization: string };
let bob: { authorization: string };
const operator = { authorization: 'Bearer test-admin-token' };

interface OrderView {
  orderId: string;
  status: string;
  saga: { steps: { name: string; status: string }[] };
}

async function settled(orderId: string, auth = alice): Promise<OrderView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await (await callWorker(gateway, `/api/orders/${orderId}`, { headers: auth })).json<OrderView>();
    if (view.status === 'COMPLETED' || view.status === 'CANCELLED') return view;
    if (Date.now() > deadline) throw new Error(`order ${orderId} did not settle: ${JSON.stringify(view)}`);
    await scheduler.wait(25);
  }
}

const place = (auth: Record<string, string>, body: unknown, key = `k-${crypto.randomUUID()}`) =>
  callWorker(gateway, '/api/orders', json(body, { ...auth, 'idempotency-key': key }));

beforeAll(async () => {
  alice = await bearerFor('usr_e2e_alice', 'customer');
  bob = await bearerFor('usr_e2e_bob', 'customer');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_e2e_order', 'Headlamp', '', 3100, 'USD', 50)",
  );
});

describe('orders through the gateway', () => {
  it('places an order (202), reads it as its owner with the saga timeline, and refuses others', async () => {
    const response = await place(alice, { items: [{ productId: 'prod_e2e_order', quantity: 1 }] });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(/^\/api\/orders\/ord_[0-9a-f]{32}$/);
    const { orderId } = await response.json<{ orderId: string }>();
    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.saga.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['reserve:succeeded', 'charge:succeeded', 'confirm:succeeded']);
    expect((await callWorker(gateway, `/api/orders/${orderId}`, { headers: bob })).status).toBe(404);
    // Its payment, for its owner only.
    const mine = await (await callWorker(gateway, `/api/payments?orderId=${orderId}`, { headers: alice })).json<{ items: { kind: string; amountCents: number }[] }>();
    expect(mine.items).toEqual([expect.objectContaining({ kind: 'charge', amountCents: 3_100 })]);
    const theirs = await (await callWorker(gateway, `/api/payments?orderId=${orderId}`, { headers: bob })).json<{ items: unknown[] }>();
    expect(theirs.items).toEqual([]);
  });

  it('needs a signed-in caller and an Idempotency-Key', async () => {
    const anonymous = await callWorker(gateway, '/api/orders', json({ items: [{ productId: 'prod_e2e_order', quantity: 1 }] }, { 'idempotency-key': 'k' }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const keyless = await callWorker(gateway, '/api/orders', json({ items: [{ productId: 'prod_e2e_order', quantity: 1 }] }, alice));
    expect(keyless.status).toBe(400);
    expect(keyless.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('operators see sagas by status at /_ops/sagas and their counts as saga_total on /metrics', async () => {
    const { orderId } = await (await place(alice, { items: [{ productId: 'prod_e2e_order', quantity: 1 }], paymentMethod: { card: '4000000000000002' } })).json<{ orderId: string }>();
    expect((await settled(orderId)).status).toBe('CANCELLED');
    const sagas = await callWorker(gateway, '/_ops/sagas?status=CANCELLED', { headers: operator });
    expect(sagas.status).toBe(200);
    const { items } = await sagas.json<{ items: { orderId: string; status: string; saga: { steps: unknown[] } }[] }>();
    expect(items.find((i) => i.orderId === orderId)?.saga.steps.length).toBe(5);
    expect((await callWorker(gateway, '/_ops/sagas?status=LOST', { headers: operator })).status).toBe(400);
    expect((await callWorker(gateway, '/_ops/sagas')).status).toBe(401);
    const metrics = await (await callWorker(gateway, '/metrics')).text();
    expect(Number(/^saga_total\{status="CANCELLED"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    // Each outbox's parked rows, as /_ops/outbox counts them.
    const outboxes = await (await callWorker(gateway, '/_ops/outbox', { headers: operator })).json<Record<string, { dead: number }>>();
    for (const service of ['orders', 'payments', 'notifications', 'ledger']) {
      expect(outboxes[service]?.dead, service).toBeTypeOf('number');
      expect(Number(new RegExp(`^outbox_dead_total\\{service="${service}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]), service).toBe(outboxes[service]?.dead);
    }
  });
});

describe("the catalog's endpoints for other services stay private", () => {
  it.each(['/api/catalog/inventory/quote', '/api/catalog/inventory/reservations', '/api/catalog/%69nventory/quote', '/api/catalog/hooks/catalog', '/api/catalog//inventory/quote'])(
    '%s is 404 at the edge, even for an admin',
    async (path) => {
      const admin = await bearerFor('usr_e2e_admin', 'customer', 'admin');
      const response = await callWorker(gateway, path, json({ items: [{ productId: 'prod_e2e_order', quantity: 1 }] }, { ...admin, 'idempotency-key': 'k' }));
      expect(response.status).toBe(404);
    },
  );
});

describe('QStash deliveries through /hooks/<consumer>', () => {
  const orderCompleted = (orderId: string) =>
    JSON.stringify({
      specversion: '1.0',
      id: `evt_${orderId}_completed`,
      source: 'stratus/orders',
      type: 'order.completed',
      subject: orderId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { orderId, userId: 'usr_e2e_alice', items: [{ productId: 'prod_e2e_order', quantity: 2, unitPriceCents: 3100 }], totalCents: 6200, currency: 'USD', placedAt: new Date().toISOString() },
    });

  it('reach the consumer with the raw body and signature; unsigned or tampered ones are 401', async () => {
    const body = orderCompleted('ord_hook_1');
    const signed = await callWorker(gateway, '/hooks/order-summaries', await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/order-summaries`, body));
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ status: 'processed' });
    const unsigned = await callWorker(gateway, '/hooks/order-summaries', await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/order-summaries`, body, { unsigned: true }));
    expect(unsigned.status).toBe(401);
    const tampered = await callWorker(
      gateway,
      '/hooks/notifications',
      await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/notifications`, body.replace('6200', '1'), { signedBody: body }),
    );
    expect(tampered.status).toBe(401);
    // The read model took the delivered event: the order is in alice's list.
    const list = await (await callWorker(gateway, '/api/orders', { headers: alice })).json<{ items: { orderId: string; status: string }[] }>();
    expect(list.items).toContainEqual(expect.objectContaining({ orderId: 'ord_hook_1', status: 'COMPLETED' }));
  });

  it('the notification a delivery made is in its user\'s GET /api/notifications, and no one else\'s', async () => {
    const body = orderCompleted('ord_hook_notified');
    expect((await callWorker(gateway, '/hooks/notifications', await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/notifications`, body))).status).toBe(200);
    const mine = await callWorker(gateway, '/api/notifications?limit=5', { headers: alice });
    expect(mine.status).toBe(200);
    const page = await mine.json<{ items: { kind: string; orderId: string }[]; nextCursor: string | null }>();
    expect(page.items).toContainEqual(expect.objectContaining({ kind: 'order.completed', orderId: 'ord_hook_notified' }));
    const theirs = await (await callWorker(gateway, '/api/notifications', { headers: bob })).json<{ items: { orderId: string }[] }>();
    expect(theirs.items.map((item) => item.orderId)).not.toContain('ord_hook_notified');
    expect((await callWorker(gateway, '/api/notifications')).status).toBe(401);
    // The service's operator counts are not public.
    expect((await callWorker(gateway, '/api/notifications/stats', { headers: alice })).status).toBe(404);
  });

  it("a signature made for one consumer does not open another's door", async () => {
    const body = orderCompleted('ord_hook_2');
    const forSummaries = await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/order-summaries`, body);
    expect((await callWorker(gateway, '/hooks/catalog', forSummaries)).status).toBe(401);
  });

  it('a processed catalog delivery purges the cached product it names', async () => {
    const anonymous = { 'cf-connecting-ip': '203.0.113.77' };
    const first = await callWorker(gateway, '/api/catalog/products/prod_e2e_order', { headers: anonymous });
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect((await callWorker(gateway, '/api/catalog/products/prod_e2e_order', { headers: anonymous })).headers.get('x-cache')).toBe('HIT');
    const delivered = await callWorker(gateway, '/hooks/catalog', await qstashDelivery(SIGNING_KEY, `${HOOKS}/hooks/catalog`, orderCompleted('ord_hook_3')));
    expect(delivered.status).toBe(200);
    expect((await callWorker(gateway, '/api/catalog/products/prod_e2e_order', { headers: anonymous })).headers.get('x-cache')).toBe('MISS');
  });
});
