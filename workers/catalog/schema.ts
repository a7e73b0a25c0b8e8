import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The catalog's own database (one D1 per service). Money is integer minor units plus an ISO
 * currency code (DESIGN.md decision 6); the CHECKs make the database itself refuse a negative
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
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    updatedAt: text('updated_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('products_price_not_negative', sql`${table.priceCents} >= 0`),
    check('products_stock_not_negative', sql`${table.stock} >= 0`),
    check('products_currency_iso', sql`length(${table.currency}) = 3`),
    index('products_name_idx').on(table.name),
    index('products_views_idx').on(table.views, table.id),
  ],
);

export type ProductRow = typeof products.$inferSelect;
