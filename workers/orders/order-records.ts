import { and, eq, notInArray, or } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { outboxInsert } from '../../shared/adapters/cloudflare/outbox-table';
import type { SagaState } from '../../shared/saga/saga';
import { ORDER_EVENTS, orderEvent } from './order-events';
import type { PlacedOrder } from './placed-order';
import { orders } from './schema';
import { toTimeline } from './timeline';

/**
 * The saga's writes to the orders database. Each is idempotent, since a saga step may run again
 * after a crash: the order row is inserted once (ON CONFLICT DO NOTHING), events have ids derived
 * from the order (order-events.ts), so a repeated batch adds nothing.
 */
export class OrderRecords {
  private readonly db;

  constructor(database: D1Database) {
    this.db = drizzle(database);
  }

  /** The order row and `order.placed`, in one batch. */
  async record(order: PlacedOrder, saga: SagaState): Promise<void> {
    const now = new Date().toISOString();
    await this.db.batch([
      this.db
        .insert(orders)
        .values({
          id: order.orderId,
          userId: order.userId,
          idempotencyKey: order.idempotencyKey,
          status: saga.status,
          totalCents: order.totalCents,
          currency: order.currency,
          items: JSON.stringify(order.items),
          saga: JSON.stringify(toTimeline(saga)),
          createdAt: order.placedAt,
          updatedAt: now,
        })
        .onConflictDoNothing(),
      outboxInsert(this.db, orderEvent('order.placed', order), ORDER_EVENTS).onConflictDoNothing(),
    ]);
  }

  /** The saga's progress, mirrored so orders are read and listed without waking sagas. */
  async mirror(saga: SagaState): Promise<void> {
    await this.db
      .update(orders)
      .set({ status: saga.status, saga: JSON.stringify(toTimeline(saga)), reason: saga.reason ?? null, updatedAt: new Date().toISOString() })
      // A terminal status is final: a mirror never moves an order out of it (it may still
      // complete the timeline of the status it is in).
      .where(and(eq(orders.id, saga.id), or(notInArray(orders.status, ['COMPLETED', 'CANCELLED']), eq(orders.status, saga.status))));
  }

  /** The last step of a saga that succeeded or was undone: the final status and its event, together. */
  async settle(order: PlacedOrder, saga: SagaState, outcome: 'COMPLETED' | 'CANCELLED'): Promise<void> {
    const type = outcome === 'COMPLETED' ? 'order.completed' : 'order.cancelled';
    await this.db.batch([
      this.db
        .update(orders)
        .set({ status: outcome, saga: JSON.stringify(toTimeline(saga)), reason: saga.reason ?? null, updatedAt: new Date().toISOString() })
        .where(and(eq(orders.id, saga.id), notInArray(orders.status, ['COMPLETED', 'CANCELLED']))),
      outboxInsert(this.db, orderEvent(type, order, { reason: saga.reason }), ORDER_EVENTS).onConflictDoNothing(),
    ]);
  }
}
