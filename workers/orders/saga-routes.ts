import { desc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { Hono } from 'hono';
import { z } from 'zod';
import { requireOps } from '../../shared/http/identity';
import { conflict, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { OrdersBindings } from './env';
import { orderIdParam, sagaListQuery, toOrder } from './order-schemas';
import { orders } from './schema';

/** `{note?}`: why the operator acted, kept in the saga's timeline. */
export const operatorActionBody = z.strictObject({ note: z.string().trim().min(1).max(500).optional() });
const actionParam = orderIdParam.extend({ action: z.enum(['retry', 'compensate', 'resolve']) });


/** The operator's view: the gateway calls these for /_ops/sagas and /metrics with the ops scope. */
export const sagaRoutes = new Hono<AppEnv<OrdersBindings>>()
  .use(requireOps('Sagas are for operators.'))
  /** Sagas newest first, optionally of one status, each with its step timeline. */
  .get('/', validate('query', sagaListQuery), async (c) => {
    const { status, limit } = c.req.valid('query');
    const rows = await drizzle(requestD1(c))
      .select()
      .from(orders)
      .where(status ? eq(orders.status, status) : undefined)
      .orderBy(desc(orders.createdAt))
      .limit(limit);
    return c.json({ items: rows.map((row) => ({ ...toOrder(row), userId: row.userId })) });
  })
  /** Sagas per status, for `saga_total{status}` on the gateway's /metrics. */
  .get('/counts', async (c) => {
    const rows = await drizzle(requestD1(c))
      .select({ status: orders.status, count: sql<number>`count(*)` })
      .from(orders)
      .groupBy(orders.status);
    const counts: Record<string, number> = { PENDING: 0, COMPENSATING: 0, STUCK: 0, COMPLETED: 0, CANCELLED: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return c.json(counts);
  })
  /**
   * An operator's action on a STUCK saga: `retry` (run its step now), `compensate` (turn back,
   * only where its stuck step was refused for good), `resolve` (close it by hand, with a note).
   * Recorded in the timeline; 409 where the action does not apply; the order as it stands after.
   */
  .post('/:id/:action', validate('param', actionParam), validate('json', operatorActionBody), async (c) => {
    const { id, action } = c.req.valid('param');
    const { note } = c.req.valid('json');
    const saga = c.env.ORDER_SAGA.get(c.env.ORDER_SAGA.idFromName(id));
    const result = await saga.operate(action, note);
    if (result.kind === 'missing') throw notFound(`No saga for order ${id} (an ended saga's storage is deleted after its retention).`);
    if (result.kind === 'refused') throw conflict(result.detail);
    const row = await drizzle(requestD1(c)).select().from(orders).where(eq(orders.id, id)).get();
    if (!row) throw notFound(`No order ${id}.`);
    return c.json({ ...toOrder(row), userId: row.userId });
  });
