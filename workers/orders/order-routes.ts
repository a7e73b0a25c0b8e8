import { and, desc, eq, lt, or } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { Hono, type Context } from 'hono';
import { decodeCursor, encodeCursor } from '../../shared/http/cursor';
import { cardForFingerprint, idempotencyKeyHeader, idempotencyKeyReused, REPLAYED_HEADER, requestFingerprint } from '../../shared/http/idempotency-key';
import { fieldErrorsOf, HttpError, notFound, serviceUnavailable, unauthorized } from '../../shared/http/problem';
import { publicPath } from '../../shared/http/public-path';
import type { AppEnv } from '../../shared/middleware/app-env';
import { outgoingTraceparent } from '../../shared/observability/trace-context';
import { validate } from '../../shared/validation/validate';
import { applyNewCheckoutRules } from './checkout-rules';
import type { OrdersBindings } from './env';
import { orderIdFor } from './order-id';
import { sagaConfig } from './order-saga-config';
import { listQuery, orderIdParam, placeOrderInput, toOrder, toSummary, type PlaceOrderInput } from './order-schemas';
import { callParticipant } from './participant';
import type { OrderLine, OrderPaymentMethod, PlacedOrder } from './placed-order';
import { orders, orderSummaries } from './schema';

type OrdersContext = Context<AppEnv<OrdersBindings>>;

function caller(c: OrdersContext) {
  const identity = c.get('identity');
  if (!identity) throw unauthorized('Sign in to place or read orders.', { 'www-authenticate': 'Bearer' });
  return identity;
}

/**
 * The catalog prices the order now (its quote): the order keeps these prices whatever happens to
 * the catalog later. An unknown product or mixed currencies is the client's mistake (422); a
 * catalog that does not answer is ours (503, retry with the same key).
 */
async function quote(c: OrdersContext, input: PlaceOrderInput): Promise<{ items: OrderLine[]; totalCents: number; currency: string }> {
  const answer = await callParticipant(c.env, {
    service: 'catalog',
    path: '/inventory/quote',
    body: { items: input.items },
    idempotencyKey: `quote:${c.get('requestId')}`,
    requestId: c.get('requestId'),
    traceparent: outgoingTraceparent(c.get('trace')),
    timeoutMs: sagaConfig(c.env).SAGA_CALL_TIMEOUT_MS,
  });
  if (answer.outcome.kind === 'transient') throw serviceUnavailable('The catalog could not price the order; try again with the same Idempotency-Key.', { 'retry-after': '1' });
  if (answer.outcome.kind === 'business') {
    const detail = (answer.body as { detail?: string } | null)?.detail ?? answer.outcome.error;
    // The catalog's field errors go with its detail ("…; see errors"): its paths (`items`,
    // `items.0.quantity`) name the same fields of this request's body.
    throw new HttpError(422, { type: answer.status === 404 ? 'unknown-product' : 'order-not-priced', detail, errors: fieldErrorsOf(answer.body) });
  }
  const body = answer.body as { items: (OrderLine & { currency: string })[]; totalCents: number; currency: string };
  return { items: body.items.map(({ productId, quantity, unitPriceCents }) => ({ productId, quantity, unitPriceCents })), totalCents: body.totalCents, currency: body.currency };
}

/**
 * Hands the card to the payments service, once per order (the key is the order's), and keeps
 * only what it answers: the token and the last four digits. From here on the number exists
 * nowhere in this service: not in the saga's storage, this database, the events or the logs.
 * A retry of the same order gets the same token (the payments service replays the key); the
 * same order key with another card is the client reusing its key (422).
 */
async function tokenize(c: OrdersContext, orderId: string, card: string): Promise<OrderPaymentMethod> {
  const answer = await callParticipant(c.env, {
    service: 'payments',
    path: '/payments/payment-methods',
    body: { card },
    idempotencyKey: `${orderId}:tokenize`,
    requestId: c.get('requestId'),
    traceparent: outgoingTraceparent(c.get('trace')),
    timeoutMs: sagaConfig(c.env).SAGA_CALL_TIMEOUT_MS,
  });
  if (answer.status === 422) throw idempotencyKeyReused();
  if (answer.outcome.kind !== 'ok') {
    c.get('log').warn('card not tokenized', { orderId, status: answer.status, error: answer.outcome.error });
    throw serviceUnavailable('The payments service could not take the card; try again with the same Idempotency-Key.', { 'retry-after': '1' });
  }
  const { id, card: known } = answer.body as { id: string; card: { last4: string } };
  return { id, last4: known.last4 };
}

/** The card appears in the fingerprint only as cardForFingerprint shows it (a hash of the number is reversible). */
const fingerprintOf = (input: PlaceOrderInput) =>
  requestFingerprint('order', { items: input.items, card: input.paymentMethod ? cardForFingerprint(input.paymentMethod.card) : null });

export const orderRoutes = new Hono<AppEnv<OrdersBindings>>()
  /**
   * 202 at once: the saga runs after the answer. The same key again is the same order (200 with
   * `Idempotent-Replayed`), never a second one; the same key with another body is 422.
   */
  .post('/', validate('header', idempotencyKeyHeader), validate('json', placeOrderInput), async (c) => {
    const identity = caller(c);
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const orderId = await orderIdFor(identity.userId, key);
    const fingerprint = await fingerprintOf(input);
    const saga = c.env.ORDER_SAGA.get(c.env.ORDER_SAGA.idFromName(orderId));
    const newOrder = async (): Promise<PlacedOrder> => {
      const priced = await quote(c, input);
      // Behind the new-checkout flag: refused here, before a card is tokenized or the saga starts.
      applyNewCheckoutRules(c, priced);
      return {
        orderId,
        userId: identity.userId,
        idempotencyKey: key,
        fingerprint,
        ...priced,
        ...(input.paymentMethod ? { paymentMethod: await tokenize(c, orderId, input.paymentMethod.card) } : {}),
        placedAt: new Date().toISOString(),
        requestId: c.get('requestId'),
        traceparent: outgoingTraceparent(c.get('trace')),
      };
    };
    // A retry is answered by the saga alone, before the catalog is asked for anything.
    const result = (await saga.replay(fingerprint)) ?? (await saga.place(await newOrder()));
    if (result.kind === 'conflict') throw idempotencyKeyReused();
    const location = publicPath(c, `${c.req.path.replace(/\/$/, '')}/${orderId}`);
    if (result.kind === 'existing') return c.json({ orderId, status: result.status }, 200, { [REPLAYED_HEADER]: 'true', location });
    c.get('log').info('order placed', { orderId });
    return c.json({ orderId, status: result.status }, 202, { location });
  })
  /** The caller's orders, newest first, from the read model (orders appear once their events arrive). */
  .get('/', validate('query', listQuery), async (c) => {
    const identity = caller(c);
    const { limit, cursor } = c.req.valid('query');
    const after = cursor ? decodeCursor(cursor) : undefined;
    const db = drizzle(requestD1(c));
    const mine = eq(orderSummaries.userId, identity.userId);
    const older =
      after && typeof after.placedAt === 'string' && typeof after.orderId === 'string'
        ? or(lt(orderSummaries.placedAt, after.placedAt), and(eq(orderSummaries.placedAt, after.placedAt), lt(orderSummaries.orderId, after.orderId)))
        : undefined;
    const rows = await db
      .select()
      .from(orderSummaries)
      .where(older ? and(mine, older) : mine)
      .orderBy(desc(orderSummaries.placedAt), desc(orderSummaries.orderId))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({
      items: page.map(toSummary),
      nextCursor: rows.length > limit && last ? encodeCursor({ placedAt: last.placedAt, orderId: last.orderId }) : null,
    });
  })
  /** Only its owner (or an admin) sees an order; anyone else gets the same 404 as for no order. */
  .get('/:id', validate('param', orderIdParam), async (c) => {
    const identity = caller(c);
    const { id } = c.req.valid('param');
    const row = await drizzle(requestD1(c)).select().from(orders).where(eq(orders.id, id)).get();
    if (!row || (row.userId !== identity.userId && !identity.roles.includes('admin'))) throw notFound(`No order with id ${id}.`);
    return c.json(toOrder(row));
  });
