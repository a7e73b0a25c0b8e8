import { env } from 'cloudflare:workers';
import paymentsWorker from '../../../workers/payments/index';
import { callWorker, json } from '../../support/call-worker';
import { asOrdersService, testUser, viaGateway } from '../../support/service-token';

/** The payments worker as the gateway reaches it: every call carries a service token. */
export const payments = viaGateway(paymentsWorker, 'payments');

// The end users tests call as (viaGateway turns them into the service token's subject).
export const asAdmin = testUser('op', 'admin');
export const asCustomer = testUser('u1', 'customer');

export const DECLINED_CARD = '4000000000000002';

/** The payments worker as the order saga reaches it: its own service token, issuer stratus-orders. */
export const asSaga = {
  async fetch(request: Request, workerEnv: Cloudflare.Env, ctx: ExecutionContext) {
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(await asOrdersService('payments'))) headers.set(name, value);
    return paymentsWorker.fetch(new Request(request, { headers }), workerEnv, ctx);
  },
};

/** A POST as the saga makes it, with its Idempotency-Key. */
export const postAsSaga = (path: string, body: unknown, key: string) => callWorker(asSaga, path, json(body, { 'idempotency-key': key }));

/** An empty payments database (rows that reference payments first). */
export async function resetPayments(): Promise<void> {
  await env.DB.batch(['refund_totals', 'charge_keys', 'outbox', 'payments', 'payment_methods'].map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
}

/** The outbox rows, oldest first, with their events parsed. */
export async function outboxEvents(): Promise<{ id: string; type: string; destination: unknown; event: { id: string; type: string; subject?: string; source: string; data: Record<string, unknown> } }[]> {
  const { results } = await env.DB.prepare('SELECT id, type, destination, body FROM outbox ORDER BY created_at, rowid').all<{ id: string; type: string; destination: string; body: string }>();
  return results.map((row) => ({ id: row.id, type: row.type, destination: JSON.parse(row.destination), event: JSON.parse(row.body) }));
}

// The answers' shapes, as the service and the problem helpers declare them.
import type { ProblemDetails } from '../../../shared/http/problem';
import type { Charge, Refund } from '../../../workers/payments/payment-schemas';
export type ChargeBody = Charge;
export type RefundBody = Refund;
export type Problem = ProblemDetails;


export const newKey = () => `key-${crypto.randomUUID()}`;

/** A POST with the admin identity and, unless `key` is null, an Idempotency-Key. */
export function post(path: string, body: unknown, key: string | null = newKey(), headers: Record<string, string> = asAdmin) {
  return callWorker(payments, path, json(body, { ...headers, ...(key === null ? {} : { 'idempotency-key': key }) }));
}

/** A read as an operator (admin) makes it; `user` to read as someone else (`{}`: no one). */
export const get = (path: string, user: Record<string, string> = asAdmin) => callWorker(payments, path, { headers: user });

/** Charges through the API and returns the created charge (asserting the 201). */
export async function createCharge(body: { orderId: string; amountCents: number; currency?: string; card?: string }): Promise<ChargeBody> {
  const response = await post('/payments/charges', { currency: 'USD', ...body });
  if (response.status !== 201) throw new Error(`charge failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function rowCount(where = '1 = 1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM payments WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function refundedCents(chargeId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT coalesce(sum(amount_cents), 0) AS total FROM payments WHERE kind = 'refund' AND charge_id = ?")
    .bind(chargeId)
    .first<{ total: number }>();
  return row?.total ?? 0;
}
