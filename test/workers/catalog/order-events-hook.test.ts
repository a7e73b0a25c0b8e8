import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { cloudEvent } from '../../../shared/events/cloud-event';
import topology from '../../../shared/events/topology.json';
import catalogWorker from '../../../workers/catalog/index';
import { catalogUpdateFor } from '../../../workers/catalog/order-events-consumer';
import { callWorker } from '../../support/call-worker';
import { qstashDelivery, type DeliveryOptions } from '../../support/qstash-signature';
import { viaGateway } from '../../support/service-token';
import { problemOf, seedProducts } from './inventory-support';

/** The catalog as the gateway's /hooks/catalog route reaches it: a service token, no user. */
const catalog = viaGateway(catalogWorker, 'catalog');
const HOOK = topology.consumers.catalog;

/** A delivery as QStash makes it, signed for `${HOOKS_BASE_URL}/hooks/catalog`. */
async function deliver(event: unknown, options: DeliveryOptions = {}): Promise<Response> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const key = env.QSTASH_CURRENT_SIGNING_KEY;
  if (!key) throw new Error('QSTASH_CURRENT_SIGNING_KEY is not set for the catalog project');
  return callWorker(catalog, HOOK, await qstashDelivery(key, `${env.HOOKS_BASE_URL}${HOOK}`, body, options));
}

const items = [
  { productId: 'p1', quantity: 2, unitPriceCents: 1_000 },
  { productId: 'p2', quantity: 1, unitPriceCents: 1_000 },
];
const orderEvent = (type: 'order.completed' | 'order.cancelled' | 'order.placed', orderId = 'ord_1', lines = items) =>
  cloudEvent({
    type,
    source: 'stratus/orders',
    subject: orderId,
    data: { orderId, userId: 'u1', items: lines, totalCents: 3_000, currency: 'USD', placedAt: '2026-01-01T00:00:00.000Z' },
  });

const unitsSold = async () =>
  (await env.DB.prepare('SELECT id, units_sold FROM products ORDER BY id').all<{ id: string; units_sold: number }>()).results;

beforeEach(async () => {
  await env.DB.exec('DELETE FROM inbox');
  await seedProducts([
    { id: 'p1', stock: 5 },
    { id: 'p2', stock: 5 },
    { id: 'p3', stock: 5 },
  ]);
});

describe('POST /hooks/catalog (order events)', () => {
  it('order.completed adds the units sold per product and names the products to purge', async () => {
    const response = await deliver(orderEvent('order.completed'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'processed' });
    expect(response.headers.get('x-cache-purge-tags')).toBe('product:p1,product:p2');
    expect(await unitsSold()).toEqual([
      { id: 'p1', units_sold: 2 },
      { id: 'p2', units_sold: 1 },
      { id: 'p3', units_sold: 0 },
    ]);
  });

  it('counts an order once when the same message is delivered twice, or the same event under a new message id', async () => {
    const event = orderEvent('order.completed');
    const first = await deliver(event, { messageId: 'msg_1' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache-purge-tags')).toMatch(/^product:/);
    const redelivered = await deliver(event, { messageId: 'msg_1', retried: 1 });
    expect(redelivered.status).toBe(200);
    expect(await redelivered.json()).toMatchObject({ status: 'duplicate' });
    // Still named: the first answer may never have reached the gateway, so it purges again.
    expect(redelivered.headers.get('x-cache-purge-tags')).toBe(first.headers.get('x-cache-purge-tags'));
    const republished = await deliver(event, { messageId: 'msg_2' });
    expect(await republished.json()).toMatchObject({ status: 'duplicate' });
    expect((await unitsSold()).find((p) => p.id === 'p1')?.units_sold).toBe(2);
  });

  it('counts an order once under concurrent duplicate deliveries', async () => {
    const event = orderEvent('order.completed');
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(event, { messageId: 'msg_same' })));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await unitsSold()).find((p) => p.id === 'p1')?.units_sold).toBe(2);
  });

  it('order.cancelled sells nothing but still names the products (their stock came back)', async () => {
    const response = await deliver(orderEvent('order.cancelled'));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache-purge-tags')).toBe('product:p1,product:p2');
    expect((await unitsSold()).every((p) => p.units_sold === 0)).toBe(true);
  });

  it('acknowledges other event types without changing anything', async () => {
    const response = await deliver(orderEvent('order.placed'));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache-purge-tags')).toBeNull();
    expect((await unitsSold()).every((p) => p.units_sold === 0)).toBe(true);
  });

  it('refuses an unsigned, tampered or mis-addressed delivery with 401, applying nothing', async () => {
    const event = orderEvent('order.completed');
    for (const options of [{ unsigned: true }, { signedBody: '{"tampered":true}' }, { signedUrl: 'http://127.0.0.1:8787/hooks/notifications' }, { signingKey: 'sig_wrong' }]) {
      const response = await deliver(event, options);
      expect(response.status).toBe(401);
      expect((await problemOf(response)).type).toBe('/problems/invalid-signature');
    }
    expect((await unitsSold()).every((p) => p.units_sold === 0)).toBe(true);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM inbox').first('n')).toBe(0);
  });

  it('accepts a delivery signed with the next signing key (key rotation)', async () => {
    const response = await deliver(orderEvent('order.completed'), { signingKey: env.QSTASH_NEXT_SIGNING_KEY! });
    expect(response.status).toBe(200);
  });

  it('refuses order data it cannot read with 400 (QStash retries, then dead-letters it)', async () => {
    const response = await deliver(orderEvent('order.completed', 'ord_1', [{ productId: 'p1', quantity: -1, unitPriceCents: 1 }]));
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors?.[0]?.path).toBe('data.items.0.quantity');
    expect(await env.DB.prepare('SELECT count(*) AS n FROM inbox').first('n')).toBe(0);
  });

  it('refuses a body that is not a CloudEvent with 400', async () => {
    expect((await deliver('{"hello":"world"}')).status).toBe(400);
  });
});

describe('GET /products/popular ranks by units sold, then views', () => {
  it('puts the best seller first, views breaking ties', async () => {
    await env.DB.exec("UPDATE products SET views = 50 WHERE id = 'p3'");
    await env.DB.exec("UPDATE products SET views = 10 WHERE id = 'p2'");
    await deliver(orderEvent('order.completed', 'ord_1', [{ productId: 'p1', quantity: 3, unitPriceCents: 1 }]));
    await deliver(orderEvent('order.completed', 'ord_2', [{ productId: 'p2', quantity: 3, unitPriceCents: 1 }]));
    const response = await callWorker(catalog, '/products/popular');
    const ids = ((await response.json()) as { items: { id: string }[] }).items.map((p) => p.id);
    // p1 and p2 sold 3 each (p2 has more views), p3 sold none despite the most views.
    expect(ids).toEqual(['p2', 'p1', 'p3']);
  });
});

describe('catalogUpdateFor (pure)', () => {
  it('merges lines of one product and ignores types it does not handle', () => {
    const lines = [
      { productId: 'p1', quantity: 1 },
      { productId: 'p1', quantity: 2 },
    ];
    expect(catalogUpdateFor({ type: 'order.completed', data: { orderId: 'o', items: lines } })).toEqual({
      unitsSold: [{ productId: 'p1', quantity: 3 }],
      stockChanged: ['p1'],
    });
    expect(catalogUpdateFor({ type: 'payment.charged', data: {} })).toBeNull();
  });
});
