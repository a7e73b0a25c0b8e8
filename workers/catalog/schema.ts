import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// The idempotent consumer's inbox (shared): POST /hooks/catalog records each delivery it acted on.
export { inbox } from '../../shared/adapters/cloudflare/inbox-table';

/**
 * The catalog's own database (one D1 per service). Money is integer minor units plus an ISO
 * currency code (docs/architecture.md, decision 6); the CHECKs make the database itself refuse a negative
 * price or stock, whatever code path writes.
 */
export const products = sqliteTable(
  'products',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull(),
    stock: integer('stock').notNull(),
    /** Times the product was read (GET /products/:id): ranks the "most viewed" list. */
    views: integer('views').notNull().default(0),
    /** Units sold (order.completed events, POST /hooks/catalog): ranks the popular list before views. */
    unitsSold: integer('units_sold').notNull().default(0),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    updatedAt: text('updated_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('products_price_not_negative', sql`${table.priceCents} >= 0`),
    check('products_stock_not_negative', sql`${table.stock} >= 0`),
    check('products_currency_iso', sql`length(${table.currency}) = 3`),
    index('products_name_idx').on(table.name),
    index('products_views_idx').on(table.views, table.id),
    index('products_popular_idx').on(table.unitsSold, table.views),
  ],
);

export type ProductRow = typeof products.$inferSelect;

/** Where a reservation stands. `refused` (out of stock) and `released` hold no stock. */
export const RESERVATION_STATUSES = ['reserved', 'committed', 'released', 'refused'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/**
 * Stock held for an order saga (POST /inventory/reservations), one row per reservation id.
 * `reserved` moves to `committed` or `released` and never back; `refused` (recorded so a retry
 * gets the same 409) may only be released. A release of an id never reserved writes a tombstone:
 * a `released` row with no key and no items, so a reserve arriving after its own compensation is
 * refused instead of holding stock nobody will give back.
 */
export const reservations = sqliteTable(
  'reservations',
  {
    id: text('id').primaryKey(),
    status: text('status', { enum: RESERVATION_STATUSES }).notNull(),
    /** The reserve's Idempotency-Key; null for a tombstone. UNIQUE (NULLs are distinct in SQLite). */
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the reserve request: tells a replay from a reused key or id. */
    requestFingerprint: text('request_fingerprint'),
    /** The reserve's items as answered (JSON), so a replay answers exactly the same. */
    items: text('items'),
    /**
     * Written by the one release that moved the row out of `reserved`; the stock UPDATE in the
     * same batch gives stock back only where this token is its own, so stock returns once.
     */
    releaseToken: text('release_token'),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    updatedAt: text('updated_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('reservations_status_known', sql`${table.status} IN ('reserved', 'committed', 'released', 'refused')`),
    // Only a tombstone (released without ever being reserved) lacks the reserve's request.
    check(
      'reservations_tombstone_shape',
      sql`${table.status} = 'released' OR (${table.idempotencyKey} IS NOT NULL AND ${table.requestFingerprint} IS NOT NULL AND ${table.items} IS NOT NULL)`,
    ),
    uniqueIndex('reservations_idempotency_key_uq').on(table.idempotencyKey),
    // Retention walks settled rows oldest first (retention.ts).
    index('reservations_updated_idx').on(table.updatedAt),
  ],
);

/**
 * The stock a reservation holds, per product. The foreign key to products is what refuses a
 * reservation of an unknown product inside the reserve's batch (D1 enforces foreign keys).
 */
export const reservationItems = sqliteTable(
  'reservation_items',
  {
    reservationId: text('reservation_id')
      .notNull()
      .references(() => reservations.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.reservationId, table.productId] }),
    check('reservation_items_quantity_positive', sql`${table.quantity} > 0`),
    index('reservation_items_product_idx').on(table.productId),
  ],
);

export type ReservationRow = typeof reservations.$inferSelect;
