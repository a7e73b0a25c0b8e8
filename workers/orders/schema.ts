import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The orders service's own database (one D1 per service).
 *
 * `orders` is the write side: one row per order, written by its OrderSaga (the saga's Durable
 * Object storage is the authority; this row mirrors its status and timeline after every step, so
 * orders can be read and listed without waking sagas). `order_summaries` is the read side of
 * CQRS: denormalised per user, built only from order events delivered through QStash
 * (summary-consumer.ts), serving `GET /orders`.
 *
 * Money is integer minor units plus an ISO currency code (docs/architecture.md, decision 6).
 */
export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    /** The client's Idempotency-Key: the order id is derived from (user, key), see order-id.ts. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** STUCK: a step that must succeed keeps failing or was refused for good; an operator acts (/_ops/sagas). */
    status: text('status', { enum: ['PENDING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'CANCELLED'] }).notNull(),
    totalCents: integer('total_cents').notNull(),
    currency: text('currency').notNull(),
    /** JSON: [{productId, quantity, unitPriceCents}] as quoted when the order was placed. */
    items: text('items').notNull(),
    /** JSON: the saga's steps (name, status, attempts, startedAt, finishedAt, error). */
    saga: text('saga').notNull(),
    /** Why the order was cancelled (the saga's reason), else null. */
    reason: text('reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('orders_user_key_uq').on(table.userId, table.idempotencyKey),
    index('orders_status_idx').on(table.status, table.createdAt),
    check('orders_total_not_negative', sql`${table.totalCents} >= 0`),
    check('orders_currency_iso', sql`${table.currency} GLOB '[A-Z][A-Z][A-Z]'`),
    check('orders_status_known', sql`${table.status} IN ('PENDING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'CANCELLED')`),
    // The cron's sweep for sagas whose alarm was lost walks unfinished orders by last change.
    index('orders_updated_idx').on(table.status, table.updatedAt),
    check('orders_items_json', sql`json_valid(${table.items})`),
    check('orders_saga_json', sql`json_valid(${table.saga})`),
  ],
);

export type OrderRow = typeof orders.$inferSelect;

export const orderSummaries = sqliteTable(
  'order_summaries',
  {
    orderId: text('order_id').primaryKey(),
    userId: text('user_id').notNull(),
    status: text('status').notNull(),
    totalCents: integer('total_cents').notNull(),
    currency: text('currency').notNull(),
    itemCount: integer('item_count').notNull(),
    placedAt: text('placed_at').notNull(),
    /** When the order reached its final status (the event's time). */
    settledAt: text('settled_at'),
  },
  (table) => [index('order_summaries_user_idx').on(table.userId, table.placedAt)],
);

export type OrderSummaryRow = typeof orderSummaries.$inferSelect;

export { inbox } from '../../shared/adapters/cloudflare/inbox-table';
export { outbox } from '../../shared/adapters/cloudflare/outbox-table';
