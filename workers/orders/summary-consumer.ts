import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { badRequest } from '../../shared/http/problem';
import { deliveryHandler } from '../../shared/middleware/delivery-handler';
import { toFieldErrors } from '../../shared/validation/validate';
import type { OrdersBindings } from './env';
import { orderSummaries } from './schema';

const orderEventData = z.looseObject({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  items: z.array(z.looseObject({ quantity: z.number().int().positive() })),
  totalCents: z.number().int().min(0),
  currency: z.string().length(3),
  placedAt: z.string().min(1),
});

/**
 * The read model of CQRS: one denormalised row per order, per user, built only from order events
 * (`order-events` topic → POST /hooks/order-summaries). Events may arrive in any order and more
 * than once: `order.placed` only ever inserts (it never overwrites a settled status), a settling
 * event upserts; the inbox row in the same batch makes a redelivery a no-op.
 */
export const summaryConsumer = deliveryHandler<OrdersBindings>({
  consumer: 'order-summaries',
  handle(event, { db }) {
    if (!['order.placed', 'order.completed', 'order.cancelled'].includes(event.type)) return { statements: [] };
    const parsed = orderEventData.safeParse(event.data);
    // 400, not 500: the event can never be applied (QStash retries, then dead-letters it for a person).
    if (!parsed.success) throw badRequest(`The ${event.type} event's data is not an order.`, toFieldErrors(parsed.error));
    const data = parsed.data;
    const row = {
      orderId: data.orderId,
      userId: data.userId,
      totalCents: data.totalCents,
      currency: data.currency,
      itemCount: data.items.reduce((sum, item) => sum + item.quantity, 0),
      placedAt: data.placedAt,
    };
    if (event.type === 'order.placed') {
      return { statements: [db.insert(orderSummaries).values({ ...row, status: 'PENDING' }).onConflictDoNothing()] };
    }
    const status = event.type === 'order.completed' ? 'COMPLETED' : 'CANCELLED';
    const settledAt = event.time ?? new Date().toISOString();
    return {
      statements: [
        db
          .insert(orderSummaries)
          .values({ ...row, status, settledAt })
          .onConflictDoUpdate({ target: orderSummaries.orderId, set: { status, settledAt: sql`excluded.settled_at` } }),
      ],
    };
  },
});
