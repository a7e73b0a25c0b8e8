import { z } from 'zod';
import type { TimelineStep } from './timeline';
import type { OrderRow, OrderSummaryRow } from './schema';

/** At most 50 lines of at most 1,000 units: the catalog's bounds, so every total stays exact. */
const orderItem = z
  .object({
    productId: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(1_000),
  })
  .strict();

/** A card number as the test cards are written: 12 to 19 digits. */
const card = z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits');

export const placeOrderInput = z
  .object({
    items: z.array(orderItem).min(1).max(50),
    paymentMethod: z.object({ card }).strict().optional(),
  })
  .strict();

export type PlaceOrderInput = z.infer<typeof placeOrderInput>;

export const orderIdParam = z.object({ id: z.string().regex(/^ord_[0-9a-f]{32}$/, 'not an order id') });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

const STATUSES = ['PENDING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'CANCELLED'] as const;
export const sagaListQuery = z.object({
  status: z.enum(STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** GET /orders/:id (docs/api.md). */
export function toOrder(row: OrderRow) {
  return {
    orderId: row.id,
    status: row.status,
    totalCents: row.totalCents,
    currency: row.currency,
    items: JSON.parse(row.items) as unknown[],
    saga: { steps: JSON.parse(row.saga) as TimelineStep[] },
    ...(row.reason ? { reason: row.reason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** GET /orders: a line of the caller's order list, from the read model. */
export function toSummary(row: OrderSummaryRow) {
  return {
    orderId: row.orderId,
    status: row.status,
    totalCents: row.totalCents,
    currency: row.currency,
    itemCount: row.itemCount,
    placedAt: row.placedAt,
    settledAt: row.settledAt,
  };
}
