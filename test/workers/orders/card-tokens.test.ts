import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlacedOrder } from '../../../workers/orders/placed-order';
import { callWorker, json } from '../../support/call-worker';
import { alice, DECLINED_CARD, newKey, orders, seedProducts, settled } from './support';

const APPROVED_CARD = '4242424242424242';
const OTHER_CARD = '5555555555554444';
const CARDS = [APPROVED_CARD, DECLINED_CARD, OTHER_CARD];

/** Every row of every table of a D1 database, as one string (what a file of it would hold). */
async function everyRowOf(db: D1Database): Promise<string> {
  const { results: tables } = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables) dump[name] = (await db.prepare(`SELECT * FROM "${name}"`).all()).results;
  return JSON.stringify(dump);
}

/** Everything the order's saga object stores: its key-value entries and any SQL table of its own. */
const everythingStoredBy = (orderId: string) =>
  runInDurableObject(env.ORDER_SAGA.get(env.ORDER_SAGA.idFromName(orderId)), async (_instance, state) => {
    const entries = Object.fromEntries(await state.storage.list());
    const tables = [...state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'")];
    const rows = Object.fromEntries(tables.map(({ name }) => [name, [...state.storage.sql.exec(`SELECT * FROM "${name}"`)]]));
    return JSON.stringify({ entries, rows });
  });

/** The saga binding, recording every order the route hands a saga to start. */
function recordingSagas(handed: PlacedOrder[]): Partial<Cloudflare.Env> {
  const namespace = env.ORDER_SAGA;
  const recording = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = namespace.get(id);
      return {
        replay: (fingerprint: string) => stub.replay(fingerprint),
        place: (order: PlacedOrder) => {
          handed.push(order);
          return stub.place(order);
        },
      };
    },
  };
  // Only the two methods the route calls; the rest of the namespace is not needed here.
  return { ORDER_SAGA: recording as unknown as Cloudflare.Env['ORDER_SAGA'] };
}

const noCardIn = (text: string) => {
  for (const card of CARDS) expect(text).not.toContain(card);
};

let logged: string[] = [];
beforeEach(async () => {
  await seedProducts([{ id: 'prod_lamp', stock: 50, priceCents: 2_500 }]);
  logged = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('card numbers stop at the payments service', () => {
  it.each([
    ['approved', APPROVED_CARD, 'COMPLETED', '4242'],
    ['declined', DECLINED_CARD, 'CANCELLED', '0002'],
  ])('an order with the %s test card: the saga is handed a token and the last four digits, never the number', async (_name, card, status, last4) => {
    const handed: PlacedOrder[] = [];
    const response = await callWorker(orders, '/orders', json({ items: [{ productId: 'prod_lamp', quantity: 1 }], paymentMethod: { card } }, { ...alice, 'idempotency-key': newKey() }), recordingSagas(handed));
    expect(response.status).toBe(202);
    const { orderId } = await response.json<{ orderId: string }>();
    expect(handed).toHaveLength(1);
    expect(handed[0]!.paymentMethod).toEqual({ id: expect.stringMatching(/^pm_[0-9a-f]{32}$/), last4 });
    noCardIn(JSON.stringify(handed));

    expect((await settled(orderId)).status).toBe(status);
    // The saga's storage, the orders database (its outbox: every order event) and the payments
    // database (charges, tokens, its outbox: every payment event) hold no number.
    noCardIn(await everythingStoredBy(orderId));
    noCardIn(await everyRowOf(env.DB));
    noCardIn(await everyRowOf(env.TEST_PAYMENTS_DB));
    // Payments keeps what a merchant keeps: the token, a fingerprint, the last four digits.
    const method = await env.TEST_PAYMENTS_DB.prepare('SELECT * FROM payment_methods WHERE id = ?').bind(handed[0]!.paymentMethod!.id).first<Record<string, unknown>>();
    expect(method).toMatchObject({ card_last4: last4, card_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const charge = await env.TEST_PAYMENTS_DB.prepare("SELECT payment_method_id, card_last4 FROM payments WHERE order_id = ? AND kind = 'charge'").bind(orderId).first();
    expect(charge).toEqual({ payment_method_id: handed[0]!.paymentMethod!.id, card_last4: last4 });
    // No log line this isolate wrote (the route's and the saga's) carries it either.
    noCardIn(logged.join('\n'));
  });

  it('a retry of the order with the same key is the same order and the same token; another card with that key is 422', async () => {
    const key = newKey();
    const body = { items: [{ productId: 'prod_lamp', quantity: 1 }], paymentMethod: { card: OTHER_CARD } };
    const first = await callWorker(orders, '/orders', json(body, { ...alice, 'idempotency-key': key }));
    const { orderId } = await first.json<{ orderId: string }>();
    const again = await callWorker(orders, '/orders', json(body, { ...alice, 'idempotency-key': key }));
    expect(again.status).toBe(200);
    expect((await again.json<{ orderId: string }>()).orderId).toBe(orderId);
    const tokens = await env.TEST_PAYMENTS_DB.prepare('SELECT count(*) AS n FROM payment_methods WHERE idempotency_key = ?').bind(`${orderId}:tokenize`).first<{ n: number }>();
    expect(tokens?.n).toBe(1);
    const otherCard = await callWorker(orders, '/orders', json({ ...body, paymentMethod: { card: APPROVED_CARD } }, { ...alice, 'idempotency-key': key }));
    expect(otherCard.status).toBe(422);
    await settled(orderId);
  });
});
