import { env } from 'cloudflare:workers';
import catalogWorker from '../../../workers/catalog/index';
import type { ProblemDetails } from '../../../shared/http/problem';
import type { Quote, ReservationAnswer, ReservationStatusAnswer } from '../../../workers/catalog/inventory-schemas';
import { callWorker, json } from '../../support/call-worker';
import { asOrdersService, testUser, viaGateway } from '../../support/service-token';

export type { Quote, ReservationAnswer, ReservationStatusAnswer };
export type Problem = ProblemDetails;

/** The catalog as the order saga reaches it: its own service token, issuer stratus-orders. */
export const asSaga = {
  async fetch(request: Request, workerEnv: Cloudflare.Env, ctx: ExecutionContext) {
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(await asOrdersService('catalog'))) headers.set(name, value);
    return catalogWorker.fetch(new Request(request, { headers }), workerEnv, ctx);
  },
};

/** The catalog as the gateway reaches it, for an end user named by testUser headers. */
export const viaGatewayCatalog = viaGateway(catalogWorker, 'catalog');
export const asAdmin = testUser('op', 'admin');
export const asCustomer = testUser('u1', 'customer');

export const newKey = () => `key-${crypto.randomUUID()}`;

export const reserve = (reservationId: string, items: { productId: string; quantity: number }[], key = `${reservationId}:reserve`) =>
  callWorker(asSaga, '/inventory/reservations', json({ reservationId, items }, { 'idempotency-key': key }));
export const commitReservation = (id: string) => callWorker(asSaga, `/inventory/reservations/${id}/commit`, { method: 'POST', headers: { 'idempotency-key': `${id}:commit` } });
export const releaseReservation = (id: string) => callWorker(asSaga, `/inventory/reservations/${id}/release`, { method: 'POST', headers: { 'idempotency-key': `${id}:release` } });
export const quote = (items: unknown) => callWorker(asSaga, '/inventory/quote', json({ items }));

/** A clean catalog: no reservations, these products. */
export async function seedProducts(rows: { id: string; stock: number; priceCents?: number; currency?: string }[]): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('DELETE FROM reservation_items'),
    env.DB.prepare('DELETE FROM reservations'),
    env.DB.prepare('DELETE FROM products'),
    ...rows.map((row) =>
      env.DB.prepare('INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, ?, ?, ?, ?)').bind(
        row.id,
        `Product ${row.id}`,
        '',
        row.priceCents ?? 1_000,
        row.currency ?? 'USD',
        row.stock,
      ),
    ),
  ]);
}

export async function stockOf(id: string): Promise<number | undefined> {
  return (await env.DB.prepare('SELECT stock FROM products WHERE id = ?').bind(id).first<{ stock: number }>())?.stock;
}

export async function problemOf(response: Response): Promise<Problem> {
  if (response.headers.get('content-type') !== 'application/problem+json') throw new Error(`not a problem: ${response.status} ${await response.text()}`);
  return response.json();
}
