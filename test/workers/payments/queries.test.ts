import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { callWorker } from '../../support/call-worker';
import { asCustomer, createCharge, DECLINED_CARD, get, post, postAsSaga, type Problem, type RefundBody, payments, resetPayments } from './support';
import { testUser } from '../../support/service-token';

beforeEach(async () => {
  await resetPayments();
});

interface ListBody {
  items: Record<string, unknown>[];
}

describe('GET /payments?orderId=', () => {
  it("lists one order's charges and refunds, oldest first, in the API shape", async () => {
    const paid = await createCharge({ orderId: 'ord_1', amountCents: 5_000, currency: 'EUR' });
    await createCharge({ orderId: 'ord_2', amountCents: 999, currency: 'EUR' });
    const refunded = (await (await post('/payments/refunds', { chargeId: paid.id, amountCents: 1_500 })).json()) as RefundBody;
    const declined = await createCharge({ orderId: 'ord_1', amountCents: 700, currency: 'EUR', card: DECLINED_CARD });

    const response = await get('/payments?orderId=ord_1');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      items: [
        { id: paid.id, kind: 'charge', amountCents: 5_000, currency: 'EUR', status: 'succeeded', createdAt: paid.createdAt },
        { id: refunded.id, kind: 'refund', amountCents: 1_500, currency: 'EUR', status: 'succeeded', createdAt: refunded.createdAt },
        { id: declined.id, kind: 'charge', amountCents: 700, currency: 'EUR', status: 'declined', createdAt: declined.createdAt },
      ],
    });
  });

  it('orders by time, not by when a row happened to be written', async () => {
    await createCharge({ orderId: 'ord_1', amountCents: 100 });
    await env.DB.exec(
      "INSERT INTO payments (id, kind, order_id, amount_cents, currency, status, card_last4, idempotency_key, request_fingerprint, created_at) VALUES ('pay_old', 'charge', 'ord_1', 1, 'USD', 'succeeded', '4242', 'k-old', 'f', '2020-01-01T00:00:00.000Z')",
    );
    const { items } = (await (await get('/payments?orderId=ord_1')).json()) as ListBody;
    expect(items.map((item) => item.id)[0]).toBe('pay_old');
    expect(items).toHaveLength(2);
  });

  it('answers an order without payments with no items', async () => {
    expect(await (await get('/payments?orderId=ord_none')).json()).toEqual({ items: [] });
  });

  it.each([['', '(missing)'], ['?orderId=', '(empty)']])('400s without an orderId %s', async (query) => {
    const response = await get(`/payments${query}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as Problem).errors?.map((e) => e.path)).toContain('orderId');
  });
});

describe('GET /payments/:id', () => {
  it('returns a charge and a refund exactly as they were created', async () => {
    const charge = await createCharge({ orderId: 'ord_1', amountCents: 2_000, currency: 'GBP', card: DECLINED_CARD });
    expect(await (await get(`/payments/${charge.id}`)).json()).toEqual(charge);

    const paid = await createCharge({ orderId: 'ord_1', amountCents: 2_000, currency: 'GBP' });
    const refund = await (await post('/payments/refunds', { chargeId: paid.id })).json();
    expect(await (await get(`/payments/${(refund as RefundBody).id}`)).json()).toEqual(refund);
  });

  it('404s as problem+json for an unknown id', async () => {
    const response = await get('/payments/pay_unknown');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('the database itself refuses impossible rows', () => {
  const insert = (values: string) =>
    env.DB.exec(
      `INSERT INTO payments (id, kind, order_id, charge_id, amount_cents, currency, status, decline_code, card_last4, idempotency_key, request_fingerprint) VALUES ${values}`,
    );

  it.each([
    ['a zero amount', "('p1', 'charge', 'o', NULL, 0, 'USD', 'succeeded', NULL, '4242', 'k1', 'f')"],
    ['a full card number', "('p1', 'charge', 'o', NULL, 100, 'USD', 'succeeded', NULL, '4242424242424242', 'k1', 'f')"],
    ['a charge without card digits', "('p1', 'charge', 'o', NULL, 100, 'USD', 'succeeded', NULL, NULL, 'k1', 'f')"],
    ['a refund without its charge', "('r1', 'refund', 'o', NULL, 100, 'USD', 'succeeded', NULL, NULL, 'k1', 'f')"],
    ['a decline code on a success', "('p1', 'charge', 'o', NULL, 100, 'USD', 'succeeded', 'card_declined', '4242', 'k1', 'f')"],
    ['a lower-case currency', "('p1', 'charge', 'o', NULL, 100, 'usd', 'succeeded', NULL, '4242', 'k1', 'f')"],
  ])('%s', async (_, values) => {
    await expect(insert(values)).rejects.toThrow(/CHECK constraint failed/);
  });

  it('a second row with the same idempotency key', async () => {
    await insert("('p1', 'charge', 'o', NULL, 100, 'USD', 'succeeded', NULL, '4242', 'k1', 'f')");
    await expect(insert("('p2', 'charge', 'o', NULL, 100, 'USD', 'succeeded', NULL, '4242', 'k1', 'f')")).rejects.toThrow(/UNIQUE constraint failed/);
  });
});

describe('health', () => {
  it('/ready checks D1', async () => {
    const response = await callWorker(payments, '/ready');
    expect(await response.json()).toEqual({ status: 'ready', checks: { db: { status: 'up' } } });
  });

  it('/ready is 503 with the reason when D1 fails', async () => {
    const broken = { prepare: () => ({ first: () => Promise.reject(new Error('D1_ERROR: database unavailable')) }) } as unknown as D1Database;
    const response = await callWorker(payments, '/ready', {}, { DB: broken });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not_ready', checks: { db: { status: 'down', error: 'D1_ERROR: database unavailable' } } });
  });
});

describe('a customer reads only their own payments', () => {
  const charge = (orderId: string, customerId: string) =>
    postAsSaga('/payments/charges', { orderId, amountCents: 1_200, currency: 'USD', customerId }, `${orderId}:charge`);

  it("lists the payments made for them, and nothing of another customer's order", async () => {
    expect((await charge('ord_mine', 'u1')).status).toBe(201);
    expect((await charge('ord_theirs', 'u2')).status).toBe(201);
    const mine = (await (await get('/payments?orderId=ord_mine', asCustomer)).json()) as ListBody;
    expect(mine.items.map((item) => item.amountCents)).toEqual([1_200]);
    const theirs = (await (await get('/payments?orderId=ord_theirs', asCustomer)).json()) as ListBody;
    expect(theirs.items).toEqual([]);
    // An admin sees both.
    expect(((await (await get('/payments?orderId=ord_theirs')).json()) as ListBody).items).toHaveLength(1);
  });

  it("answers another customer's payment by id as unknown (404), and anonymous reads with 401", async () => {
    const created = (await (await charge('ord_theirs', 'u2')).json()) as { id: string };
    expect((await get(`/payments/${created.id}`, testUser('u2', 'customer'))).status).toBe(200);
    expect((await get(`/payments/${created.id}`, asCustomer)).status).toBe(404);
    expect((await get('/payments?orderId=ord_theirs', {})).status).toBe(401);
  });

  it("a refund belongs to its charge's customer", async () => {
    await charge('ord_mine', 'u1');
    const refund = await postAsSaga('/payments/refunds', { orderId: 'ord_mine', chargeIdempotencyKey: 'ord_mine:charge' }, 'ord_mine:refund');
    expect(refund.status).toBe(201);
    const mine = (await (await get('/payments?orderId=ord_mine', asCustomer)).json()) as ListBody;
    expect(mine.items.map((item) => item.kind)).toEqual(['charge', 'refund']);
  });
});
