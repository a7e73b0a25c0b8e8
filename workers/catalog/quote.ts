import { HttpError, notFound } from '../../shared/http/problem';
import type { Quote, StockItem } from './inventory-schemas';

/** What pricing needs of a product. */
export interface PricedProduct {
  id: string;
  priceCents: number;
  currency: string;
}

/**
 * Prices items at the products' current prices (pure: the caller reads the products). Every
 * product must exist (404 naming the missing ones) and share one currency (400): a total across
 * currencies would be a sum of different units.
 */
export function priceItems(items: readonly StockItem[], products: readonly PricedProduct[]): Quote {
  const byId = new Map(products.map((p) => [p.id, p]));
  const missing = items.filter((item) => !byId.has(item.productId)).map((item) => item.productId);
  if (missing.length) throw notFound(`No product with id ${missing.join(', ')}.`);
  const priced = items.map((item) => {
    const product = byId.get(item.productId)!;
    return { productId: item.productId, quantity: item.quantity, unitPriceCents: product.priceCents, currency: product.currency };
  });
  const currencies = [...new Set(priced.map((item) => item.currency))];
  if (currencies.length > 1) {
    throw new HttpError(400, { type: 'mixed-currencies', detail: `The items are priced in ${currencies.join(' and ')}; one quote has one currency.` });
  }
  // The schema's bounds keep this sum exact (inventory-schemas.ts).
  const totalCents = priced.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
  return { items: priced, totalCents, currency: currencies[0]! };
}
