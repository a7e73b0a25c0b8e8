import { eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { z } from 'zod';
import type { CloudEvent } from '../../shared/events/cloud-event';
import { badRequest } from '../../shared/http/problem';
import { deliveryHandler, type DeliveryEffects } from '../../shared/middleware/delivery-handler';
import { toFieldErrors } from '../../shared/validation/validate';
import type { CatalogBindings } from './env';
import { mergeItems, type StockItem } from './inventory-schemas';
import { products } from './schema';

/**
 * The header the answer to a delivery carries: the products whose stock the order changed, as
 * the gateway's cache tags (`product:<id>`), so it purges their cached answers (and, by its own
 * rule, the lists). The saga changes stock through service bindings, which the gateway's cache
 * never sees; the order's settling event is how it learns.
 */
export const PURGE_TAGS_HEADER = 'x-cache-purge-tags';

/** What the catalog reads of an order event (the orders service's order-events.ts); more is allowed. */
const orderEventData = z.looseObject({
  orderId: z.string().min(1),
  items: z
    .array(z.looseObject({ productId: z.string().min(1).max(64), quantity: z.number().int().positive().max(1_000_000) }))
    .min(1),
});

/** What an event means for the catalog: units sold to add, and the products whose stock changed. */
export interface CatalogUpdate {
  unitsSold: StockItem[];
  stockChanged: string[];
}

/**
 * Pure: `order.completed` adds its units to each product's units sold (popularity) and names its
 * products; `order.cancelled` only names them (the saga already gave the stock back). Any other
 * event type means nothing here (null). Malformed data is a 400: QStash retries it, then
 * dead-letters it for an operator, rather than the catalog dropping it silently.
 */
export function catalogUpdateFor(event: Pick<CloudEvent, 'type' | 'data'>): CatalogUpdate | null {
  if (event.type !== 'order.completed' && event.type !== 'order.cancelled') return null;
  const parsed = orderEventData.safeParse(event.data);
  if (!parsed.success) throw badRequest(`${event.type} data is not an order.`, toFieldErrors(parsed.error).map((e) => ({ ...e, path: `data.${e.path}` })));
  const items = mergeItems(parsed.data.items.map(({ productId, quantity }) => ({ productId, quantity })));
  return { unitsSold: event.type === 'order.completed' ? items : [], stockChanged: items.map((item) => item.productId) };
}

/** The update's statements (each one atomic increment), for the delivery's one batch with its inbox row. */
export function catalogUpdateStatements(db: DrizzleD1Database, update: CatalogUpdate): DeliveryEffects {
  return {
    statements: update.unitsSold.map((item) =>
      db
        .update(products)
        .set({ unitsSold: sql`${products.unitsSold} + ${item.quantity}` })
        .where(eq(products.id, item.productId)),
    ),
    headers: update.stockChanged.length ? { [PURGE_TAGS_HEADER]: update.stockChanged.map((id) => `product:${id}`).join(',') } : {},
  };
}

/**
 * POST /hooks/catalog: the catalog's consumer of the `order-events` topic, idempotent through
 * the inbox (deliveryHandler): a redelivered message or a republished event adds nothing twice.
 */
export const orderEventsConsumer = deliveryHandler<CatalogBindings>({
  consumer: 'catalog',
  handle(event, { db }) {
    const update = catalogUpdateFor(event);
    return update ? catalogUpdateStatements(db, update) : { statements: [] };
  },
});
