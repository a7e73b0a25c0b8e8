import { z } from 'zod';

/** One line of a quote or a reservation: how many of which product. */
export interface StockItem {
  productId: string;
  quantity: number;
}

/**
 * Bounds that keep every total exact: 50 lines × 1,000 units × the largest price (10^11 minor
 * units) is 5 × 10^15, inside 2^53.
 */
const MAX_LINES = 50;
const MAX_QUANTITY = 1_000;

const stockItem = z
  .object({
    productId: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(MAX_QUANTITY),
  })
  .strict();

/**
 * Lines naming the same product are added up into one (first appearance keeps its place), so
 * an order that lists a product twice reserves the sum, and its stock is checked once.
 */
export function mergeItems(items: readonly StockItem[]): StockItem[] {
  const merged = new Map<string, number>();
  for (const { productId, quantity } of items) merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

const stockItems = z
  .array(stockItem)
  .min(1)
  .max(MAX_LINES)
  .transform(mergeItems)
  .refine((items) => items.every((item) => item.quantity <= MAX_QUANTITY), { message: `at most ${MAX_QUANTITY} units of one product` });

export const quoteInput = z.object({ items: stockItems }).strict();

/** A reservation id is the caller's (the order saga uses the order id): it is how the saga names it to commit or release. */
const reservationId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 letters, digits or . _ : -');

export const reserveInput = z.object({ reservationId, items: stockItems }).strict();

export const reservationIdParam = z.object({ id: reservationId });

export type QuoteInput = z.infer<typeof quoteInput>;
export type ReserveInput = z.infer<typeof reserveInput>;

/** A priced line of a quote. */
export interface QuotedItem extends StockItem {
  unitPriceCents: number;
  currency: string;
}

/** POST /inventory/quote's answer. */
export interface Quote {
  items: QuotedItem[];
  totalCents: number;
  currency: string;
}

/** POST /inventory/reservations' answer (201, and the same again for a replay). */
export interface ReservationAnswer {
  reservationId: string;
  status: 'reserved';
  items: StockItem[];
}

/** POST /inventory/reservations/:id/commit and /release's answer (200). */
export interface ReservationStatusAnswer {
  reservationId: string;
  status: 'committed' | 'released';
}
