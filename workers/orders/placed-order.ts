/** One line of an order, priced when the order was placed (the catalog's quote). */
export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/**
 * What the saga carries: the order as placed. Kept in the saga's own storage; the card number
 * only until the charge step has settled (it is needed to retry the charge), then dropped.
 */
export interface PlacedOrder {
  orderId: string;
  userId: string;
  idempotencyKey: string;
  /** SHA-256 of the client's request (items, card): tells a retry from a reused key. */
  fingerprint: string;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  card?: string;
  placedAt: string;
  /** The placing request, so the saga's calls and events join its trace and logs. */
  requestId: string;
  traceparent?: string;
}
