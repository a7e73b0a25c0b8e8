import { desc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { Hono } from 'hono';
import { requireOps } from '../../shared/http/identity';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { OrdersBindings } from './env';
import { sagaListQuery, toOrder } from './order-schemas';
import { orders } from './schema';

/** The operator's view: the gateway calls these for /_ops/sagas and /metrics with the ops scope. */
export const sagaRoutes = new Hono<AppEnv<OrdersBindings>>()
  .use(requireOps('Sagas are for operators.'))
  /** Sagas newest first, optionally of one status, each with its step timeline. */
  .get('/', validate('query', sagaListQuery), async (c) => {
    const { status, limit } = c.req.valid('query');
    const rows = await drizzle(c.env.DB)
      .select()
      .from(orders)
      .where(status ? eq(orders.status, status) : undefined)
      .orderBy(desc(orders.createdAt))
      .limit(limit);
    return c.json({ items: rows.map((row) => ({ ...toOrder(row), userId: row.userId })) });
  })
  /** Sagas per status, for `saga_total{status}` on the gateway's /metrics. */
  .get('/counts', async (c) => {
    const rows = await drizzle(c.env.DB)
      .select({ status: orders.status, count: sql<number>`count(*)` })
      .from(orders)
      .groupBy(orders.status);
    const counts: Record<string, number> = { PENDING: 0, COMPENSATING: 0, COMPLETED: 0, CANCELLED: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return c.json(counts);
  });
