/** One line of an order, priced when the order was placed (the catalog's quote). */
export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** The order's card as the orders service knows it: the payments service's token and the last four digits. */
export interface OrderPaymentMethod {
  /** `pm_…`, from POST /payments/payment-methods: what the charge names. */
  id: string;
  last4: string;
}

/**
 * What the saga carries: the order as placed, kept in the saga's own storage. Never a card
 * number: a card is tokenized by the payments service before the saga exists (order-routes.ts),
 * and only its token is kept (SQLite-backed object storage keeps 30 days of point-in-time
 * history, so a number written there once could not be erased by overwriting it).
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
  /** Absent: the order names no card, and the charge uses the approved test card. */
  paymentMethod?: OrderPaymentMethod;
  /**
   * @deprecated Written only by builds before tokenization; read so a saga stored then can still
   * charge, and dropped once its charge has settled (order-saga.ts). Never written now.
   */
  card?: string;
  placedAt: string;
  /** The placing request, so the saga's calls and events join its trace and logs. */
  requestId: string;
  traceparent?: string;
}
