import { desc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { Hono, type MiddlewareHandler } from 'hono';
import { forbidden } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { OrdersBindings } from './env';
import { sagaListQuery, toOrder } from './order-schemas';
import { orders } from './schema';

/** The operator's view: the gateway calls these for /_ops/sagas and /metrics with the ops scope. */
const requireOps: MiddlewareHandler<AppEnv<OrdersBindings>> = async function requireOps(c, next) {
  const ops = c.get('caller')?.scope === 'ops' || c.get('identity')?.roles.includes('admin');
  if (!ops) throw forbidden('Sagas are for operators.');
  await next();
};

export const sagaRoutes = new Hono<AppEnv<OrdersBindings>>()
  .use(requireOps)
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
