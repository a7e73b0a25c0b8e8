import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { requireRole } from '../../shared/http/identity';
import { notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import { recordCharge } from './charges';
import type { PaymentsBindings } from './env';
import { idempotencyKeyHeader, REPLAYED_HEADER } from '../../shared/http/idempotency-key';
import type { Recorded } from './idempotency';
import { PaymentRepository } from './payment-repository';
import { chargeInput, listQuery, paymentIdParam, refundInput, toListItem, toPayment } from './payment-schemas';
import { recordRefund } from './refunds';

const repository = (env: PaymentsBindings) => new PaymentRepository(drizzle(env.DB));

/**
 * A write's answer: 201 with the payment, the same for the first call and every replay of it
 * (DESIGN.md decision 3), a replay marked by `Idempotent-Replayed: true`.
 */
function answer(c: Context<AppEnv<PaymentsBindings>>, { row, replayed }: Recorded) {
  if (!replayed) c.get('log').info(`${row.kind} recorded`, { paymentId: row.id, orderId: row.orderId, status: row.status });
  return c.json(toPayment(row), 201, replayed ? { [REPLAYED_HEADER]: 'true' } : {});
}

// Writes require the admin role. PLACEHOLDER: the edge-security issue replaces this with the
// gateway-signed service token every service verifies (DESIGN.md decision 1); the callers will
// then be the order saga and operators, not end users.
export const paymentRoutes = new Hono<AppEnv<PaymentsBindings>>()
  .get('/', validate('query', listQuery), async (c) => {
    const rows = await repository(c.env).listByOrder(c.req.valid('query').orderId);
    return c.json({ items: rows.map(toListItem) });
  })
  .get('/:id', validate('param', paymentIdParam), async (c) => {
    const { id } = c.req.valid('param');
    const row = await repository(c.env).get(id);
    if (!row) throw notFound(`No payment with id ${id}.`);
    return c.json(toPayment(row));
  })
  .post('/charges', requireRole('admin'), validate('header', idempotencyKeyHeader), validate('json', chargeInput), async (c) =>
    answer(c, await recordCharge(repository(c.env), c.req.valid('header')['idempotency-key'], c.req.valid('json'))),
  )
  .post('/refunds', requireRole('admin'), validate('header', idempotencyKeyHeader), validate('json', refundInput), async (c) =>
    answer(c, await recordRefund(repository(c.env), c.req.valid('header')['idempotency-key'], c.req.valid('json'))),
  );
