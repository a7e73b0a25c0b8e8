import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { requireCaller } from '../../shared/http/identity';
import { idempotencyKeyHeader, REPLAYED_HEADER } from '../../shared/http/idempotency-key';
import { notFound, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { outgoingTraceparent } from '../../shared/observability/trace-context';
import { ORDERS_SERVICE_TOKEN_ISSUER } from '../../shared/security/service-token';
import { validate } from '../../shared/validation/validate';
import { recordCharge } from './charges';
import type { PaymentsBindings } from './env';
import type { Recorded } from './idempotency';
import { PaymentRepository } from './payment-repository';
import { tokenizeCard } from './payment-methods';
import { chargeInput, listQuery, paymentIdParam, refundInput, tokenizeInput, toListItem, toPayment, toPaymentMethod, type ChargeVoided, type NothingRefunded } from './payment-schemas';
import { recordRefund, refundByChargeKey } from './refunds';

type PaymentsContext = Context<AppEnv<PaymentsBindings>>;

/** The repository over the request's D1: each batch a span of the request (traced-d1.ts). */
const repository = (c: Context<AppEnv<PaymentsBindings>>) => new PaymentRepository(drizzle(requestD1(c)));

/** The request's trace, carried by the events it causes (CloudEvents traceparent extension). */
const eventContext = (c: PaymentsContext) => ({ traceparent: outgoingTraceparent(c.get('trace')) });

/**
 * A write's answer: 201 with the payment, the same for the first call and every replay of it
 * (docs/architecture.md, decision 3), a replay marked by `Idempotent-Replayed: true`. A new row committed an
 * event with it: the outbox relay is kicked to publish it now (after the answer, waitUntil).
 */
function answer(c: PaymentsContext, { row, replayed }: Recorded) {
  if (!replayed) {
    c.get('log').info(`${row.kind} recorded`, { paymentId: row.id, orderId: row.orderId, status: row.status });
    kickOutbox(c.env, c.executionCtx, c.get('log'));
  }
  return c.json(toPayment(row), 201, replayed ? { [REPLAYED_HEADER]: 'true' } : {});
}

/**
 * Writes are for the order saga (its own service token, issuer stratus-orders) and for
 * operators (the admin role, through the gateway).
 */
const saga = requireCaller({ issuers: [ORDERS_SERVICE_TOKEN_ISSUER], role: 'admin' });

/**
 * Whose payments a caller may list: an admin or the saga, any order's; a customer, only the
 * payments made for them (docs/api.md: "for one of the caller's orders"), so another customer's order
 * id lists nothing. Anonymous callers get 401.
 */
function listScope(c: PaymentsContext): { customerId?: string } {
  if (c.get('caller')?.issuer === ORDERS_SERVICE_TOKEN_ISSUER) return {};
  const identity = c.get('identity');
  if (!identity) throw unauthorized('Sign in to read payments.', { 'www-authenticate': 'Bearer' });
  return identity.roles.includes('admin') ? {} : { customerId: identity.userId };
}

export const paymentRoutes = new Hono<AppEnv<PaymentsBindings>>()
  .get('/', validate('query', listQuery), async (c) => {
    const rows = await repository(c).listByOrder(c.req.valid('query').orderId, listScope(c).customerId);
    return c.json({ items: rows.map(toListItem) });
  })
  .get('/:id', validate('param', paymentIdParam), async (c) => {
    const { id } = c.req.valid('param');
    const row = await repository(c).get(id);
    const { customerId } = listScope(c);
    // Another customer's payment is answered as no payment at all.
    if (!row || (customerId !== undefined && row.customerId !== customerId)) throw notFound(`No payment with id ${id}.`);
    return c.json(toPayment(row));
  })
  .post('/charges', saga, validate('header', idempotencyKeyHeader), validate('json', chargeInput), async (c) =>
    answer(c, await recordCharge(repository(c), c.env, c.req.valid('header')['idempotency-key'], c.req.valid('json'), eventContext(c))),
  )
  /**
   * `{card}`: 201 `{id: 'pm_…', card: {last4, fingerprint}}`, the token a charge names instead of
   * the number. The order saga's edge: placing an order hands the card here once, and only the
   * token goes on. Once per Idempotency-Key, as every write here.
   */
  .post('/payment-methods', saga, validate('header', idempotencyKeyHeader), validate('json', tokenizeInput), async (c) => {
    const { row, replayed } = await tokenizeCard(repository(c), c.env, c.req.valid('header')['idempotency-key'], c.req.valid('json'));
    if (!replayed) c.get('log').info('card tokenized', { paymentMethodId: row.id, last4: row.cardLast4 });
    return c.json(toPaymentMethod(row), 201, replayed ? { [REPLAYED_HEADER]: 'true' } : {});
  })
  /**
   * `{chargeId, amountCents?}`: 201 the refund. `{orderId, chargeIdempotencyKey}` (the saga's
   * compensation): 201 the refund, or 200 `{kind:'void', ...}` (no charge was made: the key is
   * void) or 200 `{kind:'no-refund', reason, ...}` (declined, or nothing left).
   */
  .post('/refunds', saga, validate('header', idempotencyKeyHeader), validate('json', refundInput), async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const input = c.req.valid('json');
    if ('chargeId' in input) return answer(c, await recordRefund(repository(c), key, input, eventContext(c)));
    const result = await refundByChargeKey(repository(c), key, input, eventContext(c));
    if (result.kind === 'refund') return answer(c, result.recorded);
    c.get('log').info(result.kind === 'void' ? 'charge key voided' : 'nothing to refund', { ...result });
    const { kind, orderId, chargeIdempotencyKey } = result;
    const body: ChargeVoided | NothingRefunded =
      result.kind === 'void' ? { kind: 'void', orderId, chargeIdempotencyKey } : { kind, reason: result.reason, orderId, chargeIdempotencyKey, chargeId: result.chargeId };
    return c.json(body, 200);
  });
