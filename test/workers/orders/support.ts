import { env } from 'cloudflare:workers';
import ordersWorker from '../../../workers/orders/index';
import { callWorker, json } from '../../support/call-worker';
import { asOrdersService, testUser, viaGateway } from '../../support/service-token';

export const orders = viaGateway(ordersWorker, 'orders');
export const alice = testUser('usr_alice', 'customer');
export const bob = testUser('usr_bob', 'customer');
export const admin = testUser('usr_admin', 'admin');
export const DECLINED_CARD = '4000000000000002';

export interface OrderView {
  orderId: string;
  status: string;
  totalCents: number;
  currency: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  saga: { steps: { name: string; status: string; attempts: number; startedAt: string | null; finishedAt: string | null; error?: string }[] };
  reason?: string;
}

export const newKey = () => `key-${crypto.randomUUID()}`;

export function placeOrder(body: unknown, key: string | null = newKey(), user: Record<string, string> = alice) {
  return callWorker(orders, '/orders', json(body, { ...user, ...(key ? { 'idempotency-key': key } : {}) }));
}

export async function getOrder(orderId: string, user: Record<string, string> = alice): Promise<Response> {
  return callWorker(orders, `/orders/${orderId}`, { headers: user });
}

/** Polls the order until `done` holds, with a deadline. */
export async function until(orderId: string, done: (order: OrderView) => boolean, deadlineMs = 15_000, user = alice): Promise<OrderView> {
  const deadline = Date.now() + deadlineMs;
  let last: OrderView | undefined;
  while (Date.now() < deadline) {
    const response = await getOrder(orderId, user);
    if (response.status === 200) {
      last = await response.json<OrderView>();
      if (done(last)) return last;
    }
    await scheduler.wait(25);
  }
  throw new Error(`order ${orderId} did not get there in ${deadlineMs} ms: ${JSON.stringify(last)}`);
}

/** Polls the order until its saga has ended (COMPLETED or CANCELLED). */
export const settled = (orderId: string, deadlineMs = 15_000, user = alice) =>
  until(orderId, (order) => order.status === 'COMPLETED' || order.status === 'CANCELLED', deadlineMs, user);

/** A clean catalog with these products (the catalog's own database, as the catalog worker sees it). */
export async function seedProducts(rows: { id: string; stock: number; priceCents?: number }[]): Promise<void> {
  await env.TEST_CATALOG_DB.batch([
    env.TEST_CATALOG_DB.prepare('DELETE FROM reservation_items'),
    env.TEST_CATALOG_DB.prepare('DELETE FROM reservations'),
    env.TEST_CATALOG_DB.prepare('DELETE FROM products'),
    ...rows.map((row) =>
      env.TEST_CATALOG_DB.prepare('INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, ?, ?, ?, ?)').bind(
        row.id,
        `Product ${row.id}`,
        '',
        row.priceCents ?? 1_000,
        'USD',
        row.stock,
      ),
    ),
  ]);
}

export const stockOf = async (productId: string) =>
  (await env.TEST_CATALOG_DB.prepare('SELECT stock FROM products WHERE id = ?').bind(productId).first<{ stock: number }>())?.stock;

export const paymentsOf = async (orderId: string) =>
  (await env.TEST_PAYMENTS_DB.prepare('SELECT kind, status, amount_cents AS amountCents FROM payments WHERE order_id = ? ORDER BY created_at').bind(orderId).all<{ kind: string; status: string; amountCents: number }>()).results;

export const outboxTypes = async (orderId: string) =>
  (await env.DB.prepare("SELECT type FROM outbox WHERE json_extract(body, '$.subject') = ? ORDER BY created_at, type").bind(orderId).all<{ type: string }>()).results.map((r) => r.type);

/** Chaos for a participant, as the gateway's /_ops/chaos switch sets it (ops scope). */
export async function chaos(service: 'catalog' | 'payments', settings: Record<string, unknown> | null): Promise<void> {
  const binding = service === 'catalog' ? env.CATALOG : env.PAYMENTS;
  const { asGateway } = await import('../../support/service-token');
  const headers = { ...(await asGateway(service, null, { scope: 'ops' })), 'content-type': 'application/json' };
  const response = await binding.fetch('https://participant.internal/_chaos', settings ? { method: 'PUT', headers, body: JSON.stringify(settings) } : { method: 'DELETE', headers });
  if (!response.ok) throw new Error(`chaos ${service}: ${response.status} ${await response.text()}`);
}

/** A charge made directly with the saga's key, as an attempt that reached payments before a crash would have. */
export async function chargeAsSaga(orderId: string, amountCents: number, customerId = 'usr_alice'): Promise<Response> {
  return env.PAYMENTS.fetch('https://payments.internal/payments/charges', {
    method: 'POST',
    headers: { ...(await asOrdersService('payments')), 'content-type': 'application/json', 'idempotency-key': `${orderId}:charge` },
    body: JSON.stringify({ orderId, amountCents, currency: 'USD', card: '4242424242424242', customerId }),
  });
}
