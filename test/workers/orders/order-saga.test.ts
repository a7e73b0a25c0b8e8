import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { orderIdFor } from '../../../workers/orders/order-id';
import { callWorker } from '../../support/call-worker';
import {
  admin,
  alice,
  bob,
  chaos,
  chargeAsSaga,
  DECLINED_CARD,
  getOrder,
  newKey,
  orders,
  outboxTypes,
  paymentsOf,
  placeOrder,
  seedProducts,
  settled,
  until,
  stockOf,
} from './support';

const stepsOf = (order: { saga: { steps: { name: string; status: string }[] } }) => order.saga.steps.map((s) => `${s.name}:${s.status}`);

beforeEach(async () => {
  await chaos('payments', null);
  await chaos('catalog', null);
  await seedProducts([
    { id: 'prod_lamp', stock: 5, priceCents: 2_500 },
    { id: 'prod_mug', stock: 1, priceCents: 900 },
  ]);
});

describe('placing an order', () => {
  it('answers 202 PENDING at once, then the saga reserves, charges and confirms: COMPLETED', async () => {
    const response = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 2 }] });
    expect(response.status).toBe(202);
    const { orderId, status } = await response.json<{ orderId: string; status: string }>();
    expect(status).toBe('PENDING');
    expect(response.headers.get('location')).toBe(`/orders/${orderId}`);

    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.totalCents).toBe(5_000);
    expect(order.items).toEqual([{ productId: 'prod_lamp', quantity: 2, unitPriceCents: 2_500 }]);
    expect(stepsOf(order)).toEqual(['reserve:succeeded', 'charge:succeeded', 'confirm:succeeded']);
    for (const step of order.saga.steps) {
      expect(step.attempts).toBe(1);
      expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
    }
    expect(await stockOf('prod_lamp')).toBe(3);
    expect(await paymentsOf(orderId)).toEqual([{ kind: 'charge', status: 'succeeded', amountCents: 5_000 }]);
    // The state change and its event committed together: both events are in the outbox.
    expect((await outboxTypes(orderId)).sort()).toEqual(['order.completed', 'order.placed']);
  });

  it('a declined card compensates at once: the stock is released and the order CANCELLED', async () => {
    const response = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }], paymentMethod: { card: DECLINED_CARD } });
    const order = await settled((await response.json<{ orderId: string }>()).orderId);
    expect(order.status).toBe('CANCELLED');
    expect(stepsOf(order)).toEqual(['reserve:succeeded', 'charge:failed', 'confirm:skipped', 'release:succeeded', 'cancel:succeeded']);
    expect(order.reason).toMatch(/declined/);
    expect(await stockOf('prod_lamp')).toBe(5);
    // Nothing was charged, so nothing is refunded.
    expect(await paymentsOf(order.orderId)).toEqual([{ kind: 'charge', status: 'declined', amountCents: 2_500 }]);
    expect((await outboxTypes(order.orderId)).sort()).toEqual(['order.cancelled', 'order.placed']);
  });

  it('out of stock cancels without charging anything', async () => {
    const response = await placeOrder({ items: [{ productId: 'prod_mug', quantity: 2 }] });
    const order = await settled((await response.json<{ orderId: string }>()).orderId);
    expect(order.status).toBe('CANCELLED');
    expect(stepsOf(order)).toEqual(['reserve:failed', 'charge:skipped', 'confirm:skipped', 'cancel:succeeded']);
    expect(order.reason).toMatch(/out-of-stock/);
    expect(await stockOf('prod_mug')).toBe(1);
    expect(await paymentsOf(order.orderId)).toEqual([]);
  });

  it('retries a failing payments service with backoff and completes once it recovers', async () => {
    await chaos('payments', { failureRate: 1, status: 503 });
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] })).json<{ orderId: string }>();
    // Poll until the saga has tried the charge more than once, then heal payments.
    const until = Date.now() + 5_000;
    let attempts = 0;
    while (Date.now() < until && attempts < 2) {
      const view = await (await getOrder(orderId)).json<{ saga: { steps: { name: string; attempts: number }[] } }>();
      attempts = view.saga.steps.find((s) => s.name === 'charge')?.attempts ?? 0;
      if (attempts < 2) await scheduler.wait(20);
    }
    expect(attempts).toBeGreaterThanOrEqual(2);
    await chaos('payments', null);
    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.saga.steps[1]!.attempts).toBeGreaterThanOrEqual(2);
    expect(await paymentsOf(orderId)).toEqual([{ kind: 'charge', status: 'succeeded', amountCents: 2_500 }]);
  });

  it('past its deadline (5 s here) a saga stuck on payments compensates: refunds whatever was charged, releases the stock', async () => {
    await chaos('payments', { failureRate: 1, status: 503 });
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 2 }] })).json<{ orderId: string }>();
    // Past the deadline it turns back; the refund then waits for payments like any compensation.
    const compensating = await until(orderId, (o) => o.status === 'COMPENSATING', 10_000);
    expect(compensating.reason).toMatch(/deadline/);
    await chaos('payments', null);
    const order = await settled(orderId);
    expect(order.status).toBe('CANCELLED');
    // The charge's outcome was unknown (every attempt failed in transit), so it is refunded by
    // key: payments finds no charge and voids the key, so a late charge cannot land.
    expect(stepsOf(order).slice(-3)).toEqual(['refund:succeeded', 'release:succeeded', 'cancel:succeeded']);
    expect(await stockOf('prod_lamp')).toBe(5);
    const late = await chargeAsSaga(orderId, 5_000);
    expect(late.status).toBe(409);
    expect(await paymentsOf(orderId)).toEqual([]);
  });

  it('a charge that reached payments before a crash is not repeated: the resumed saga gets the first charge back', async () => {
    const key = newKey();
    const orderId = await orderIdFor('usr_alice', key);
    // The attempt that "crashed": it reached payments with the saga's key, its outcome never stored.
    expect((await chargeAsSaga(orderId, 2_500)).status).toBe(201);
    const order = await settled((await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key)).json<{ orderId: string }>()).orderId);
    expect(order.status).toBe('COMPLETED');
    expect(await paymentsOf(orderId)).toEqual([{ kind: 'charge', status: 'succeeded', amountCents: 2_500 }]);
  });
});

describe('what the saga keeps', () => {
  const storedCard = async (orderId: string) =>
    runInDurableObject(env.ORDER_SAGA.get(env.ORDER_SAGA.idFromName(orderId)), async (_instance, state) => {
      const stored = await state.storage.get<{ order: { card?: string } }>('state');
      return stored?.order.card;
    });

  it.each([
    ['completed', [{ productId: 'prod_lamp', quantity: 1 }], 'COMPLETED'],
    ['out of stock (never charged)', [{ productId: 'prod_mug', quantity: 5 }], 'CANCELLED'],
  ])('drops the card number from its storage once the order is %s', async (_name, items, status) => {
    const { orderId } = await (await placeOrder({ items, paymentMethod: { card: '5555555555554444' } })).json<{ orderId: string }>();
    expect((await settled(orderId)).status).toBe(status);
    expect(await storedCard(orderId)).toBeUndefined();
  });

  it('a charge key that already did something else is not taken as a refusal: past the deadline it is refunded', async () => {
    const key = newKey();
    const orderId = await orderIdFor('usr_alice', key);
    // A charge under the saga's key with another body (an earlier build's request, say): money taken.
    expect((await chargeAsSaga(orderId, 2_500, 'someone-else')).status).toBe(201);
    const order = await settled((await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key)).json<{ orderId: string }>()).orderId);
    expect(order.status).toBe('CANCELLED');
    expect(stepsOf(order).slice(-3)).toEqual(['refund:succeeded', 'release:succeeded', 'cancel:succeeded']);
    const money = await paymentsOf(orderId);
    expect(money.filter((p) => p.kind === 'charge')).toHaveLength(1);
    expect(money.filter((p) => p.kind === 'refund')).toEqual([{ kind: 'refund', status: 'succeeded', amountCents: 2_500 }]);
    expect(await stockOf('prod_lamp')).toBe(5);
  });

  it('answers a retry from the saga alone: the same key is 200 even while the catalog is down', async () => {
    const key = newKey();
    const body = { items: [{ productId: 'prod_lamp', quantity: 1 }] };
    const { orderId } = await (await placeOrder(body, key)).json<{ orderId: string }>();
    await settled(orderId);
    await chaos('catalog', { failureRate: 1, status: 503 });
    const again = await placeOrder(body, key);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ orderId, status: 'COMPLETED' });
  });
});

describe('idempotency and validation', () => {
  it('the same Idempotency-Key is the same order (200, replayed), never a second one', async () => {
    const key = newKey();
    const body = { items: [{ productId: 'prod_lamp', quantity: 1 }] };
    const first = await placeOrder(body, key);
    const again = await placeOrder(body, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const { orderId } = await first.json<{ orderId: string }>();
    expect((await again.json<{ orderId: string }>()).orderId).toBe(orderId);
    await settled(orderId);
    expect(await stockOf('prod_lamp')).toBe(4);
    expect(await paymentsOf(orderId)).toHaveLength(1);
  });

  it('twenty concurrent retries of one request make one order and one charge', async () => {
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 20 }, () => placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key)));
    const ids = new Set(await Promise.all(answers.map(async (a) => (await a.json<{ orderId: string }>()).orderId)));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    const [orderId] = [...ids];
    await settled(orderId!);
    expect(await paymentsOf(orderId!)).toHaveLength(1);
    expect(await stockOf('prod_lamp')).toBe(4);
  });

  it('the same key with another request is 422 and changes nothing', async () => {
    const key = newKey();
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key)).json<{ orderId: string }>();
    const reused = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 3 }] }, key);
    expect(reused.status).toBe(422);
    expect((await reused.json<{ type: string }>()).type).toMatch(/idempotency-key-reused/);
    await settled(orderId);
    expect(await stockOf('prod_lamp')).toBe(4);
  });

  it('keys are per user: the same key from another user is another order', async () => {
    const key = newKey();
    const a = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key, alice)).json<{ orderId: string }>();
    const b = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key, bob)).json<{ orderId: string }>();
    expect(a.orderId).not.toBe(b.orderId);
    await Promise.all([settled(a.orderId), settled(b.orderId, 15_000, bob)]);
  });

  it.each([
    ['no Idempotency-Key', { items: [{ productId: 'prod_lamp', quantity: 1 }] }, null, 400],
    ['no items', { items: [] }, 'k', 400],
    ['a zero quantity', { items: [{ productId: 'prod_lamp', quantity: 0 }] }, 'k', 400],
    ['a fractional quantity', { items: [{ productId: 'prod_lamp', quantity: 1.5 }] }, 'k', 400],
    ['a string quantity', { items: [{ productId: 'prod_lamp', quantity: '1' }] }, 'k', 400],
    ['an unknown field', { items: [{ productId: 'prod_lamp', quantity: 1 }], discount: 100 }, 'k', 400],
    ['a card that is not digits', { items: [{ productId: 'prod_lamp', quantity: 1 }], paymentMethod: { card: 'abcd' } }, 'k', 400],
    ['an unknown product', { items: [{ productId: 'prod_nope', quantity: 1 }] }, 'k', 422],
  ])('%s is refused (%#) with problem+json and writes nothing', async (_name, body, key, status) => {
    const count = async () => (await env.DB.prepare('SELECT count(*) AS n FROM orders').first<{ n: number }>())?.n ?? 0;
    const before = await count();
    const response = await placeOrder(body, key === 'k' ? newKey() : key);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await count()).toBe(before);
    expect(await stockOf('prod_lamp')).toBe(5);
  });

  it('a 422 that passes on the catalog\'s "see errors" carries the catalog\'s errors', async () => {
    // Each line is within bounds; the catalog adds lines of one product up (1,200 > 1,000) and refuses.
    const response = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 600 }, { productId: 'prod_lamp', quantity: 600 }] });
    expect(response.status).toBe(422);
    const problem = await response.json<{ detail: string; errors?: { path: string; message: string }[] }>();
    expect(problem.detail).toMatch(/see errors/);
    expect(problem.errors).toEqual([{ path: 'items', message: 'at most 1000 units of one product' }]);
  });

  it('without a signed-in user, placing and reading are 401', async () => {
    expect((await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, newKey(), {})).status).toBe(401);
    expect((await callWorker(orders, '/orders')).status).toBe(401);
  });
});

describe('reading orders', () => {
  it('only the owner or an admin reads an order; anyone else gets 404', async () => {
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] })).json<{ orderId: string }>();
    expect((await getOrder(orderId, alice)).status).toBe(200);
    expect((await getOrder(orderId, admin)).status).toBe(200);
    expect((await getOrder(orderId, bob)).status).toBe(404);
    await settled(orderId);
  });

  it('operators list sagas by status; customers may not', async () => {
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }], paymentMethod: { card: DECLINED_CARD } })).json<{ orderId: string }>();
    await settled(orderId);
    const listed = await callWorker(orders, '/sagas?status=CANCELLED', { headers: admin });
    expect(listed.status).toBe(200);
    const { items } = await listed.json<{ items: { orderId: string; status: string }[] }>();
    expect(items.map((i) => i.orderId)).toContain(orderId);
    expect(items.every((i) => i.status === 'CANCELLED')).toBe(true);
    const counts = await (await callWorker(orders, '/sagas/counts', { headers: admin })).json<Record<string, number>>();
    expect(counts.CANCELLED).toBeGreaterThanOrEqual(1);
    expect((await callWorker(orders, '/sagas', { headers: alice })).status).toBe(403);
  });
});
