import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';

// The transactional outbox (shared): every payment row is written in one batch with its event.
export { outbox } from '../../shared/adapters/cloudflare/outbox-table';

/**
 * The payments service's own database (one D1 per service). Charges and refunds share one table
 * because they share one timeline per order (`GET /payments?orderId=`) and one idempotency-key
 * space. Money is integer minor units plus an ISO currency code (docs/architecture.md, decision 6); the CHECKs
 * make the database itself refuse impossible rows, whatever code path writes.
 *
 * Card data: a charge names its card by token (`payment_method_id`, a payment_methods row) and
 * keeps its last four digits (`card_last4`); the number itself is never stored.
 */
export const payments = sqliteTable(
  'payments',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['charge', 'refund'] }).notNull(),
    orderId: text('order_id').notNull(),
    /** The refunded charge; null for a charge. */
    chargeId: text('charge_id').references((): AnySQLiteColumn => payments.id),
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['succeeded', 'declined', 'failed'] }).notNull(),
    declineCode: text('decline_code'),
    cardLast4: text('card_last4'),
    /** The tokenized card a charge was made with (null on a refund, and on charges made before tokens). */
    paymentMethodId: text('payment_method_id').references((): AnySQLiteColumn => paymentMethods.id),
    /**
     * The customer the payment is for (the order's user), when the caller named one: a customer
     * reads only their own payments. A refund carries its charge's.
     */
    customerId: text('customer_id'),
    /** The client's Idempotency-Key: UNIQUE, so a duplicate insert loses instead of doubling. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** SHA-256 of the operation and its canonical parsed body: tells a replay from a reused key. */
    requestFingerprint: text('request_fingerprint').notNull(),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('payments_amount_positive', sql`${table.amountCents} > 0`),
    check('payments_currency_iso', sql`${table.currency} GLOB '[A-Z][A-Z][A-Z]'`),
    check('payments_kind_known', sql`${table.kind} IN ('charge', 'refund')`),
    check('payments_status_known', sql`${table.status} IN ('succeeded', 'declined', 'failed')`),
    check('payments_decline_code_only_when_declined', sql`${table.declineCode} IS NULL OR ${table.status} = 'declined'`),
    check('payments_card_last4_digits', sql`${table.cardLast4} IS NULL OR ${table.cardLast4} GLOB '[0-9][0-9][0-9][0-9]'`),
    // A charge has a card and no parent; a refund has a parent charge and no card.
    check(
      'payments_kind_shape',
      sql`(${table.kind} = 'charge' AND ${table.chargeId} IS NULL AND ${table.cardLast4} IS NOT NULL) OR (${table.kind} = 'refund' AND ${table.chargeId} IS NOT NULL AND ${table.cardLast4} IS NULL)`,
    ),
    uniqueIndex('payments_idempotency_key_uq').on(table.idempotencyKey),
    index('payments_order_idx').on(table.orderId, table.createdAt),
    // Summing a charge's refunds (the over-refund guard) reads only that charge's refunds.
    index('payments_charge_idx').on(table.chargeId),
    // Retention asks whether any payment still uses a token.
    index('payments_payment_method_idx').on(table.paymentMethodId),
  ],
);

/**
 * Tokenized cards: what a merchant keeps from its processor, and nothing more. A card is
 * tokenized once (POST /payments/payment-methods, or inside a charge that names a card) and
 * everything else (the order saga, its storage, events, logs) holds the token `pm_…`:
 * - `card_fingerprint`: HMAC-SHA256 of the number under the CARD_FINGERPRINT_KEY secret, so the
 *   same card is recognised without the number being recoverable (a plain hash of a card number
 *   is reversed by brute force: few digits are unknown);
 * - `card_last4`: for receipts and for people;
 * - `verdict`, `decline_code`: the simulated processor's decision, taken when the card is
 *   tokenized (processor.ts); a real processor keeps the number behind the token and decides at
 *   charge time, ours keeps only its decision.
 * A tokenization request's key and fingerprint make it idempotent (docs/architecture.md, decision 3); a
 * token no payment uses is deleted after PAYMENT_METHOD_RETENTION_MS (payment-method-retention.ts).
 */
export const paymentMethods = sqliteTable(
  'payment_methods',
  {
    id: text('id').primaryKey(),
    cardFingerprint: text('card_fingerprint').notNull(),
    cardLast4: text('card_last4').notNull(),
    verdict: text('verdict', { enum: ['approved', 'declined'] }).notNull(),
    declineCode: text('decline_code'),
    /** The tokenization request's Idempotency-Key; null for a card tokenized inside a charge. */
    idempotencyKey: text('idempotency_key'),
    requestFingerprint: text('request_fingerprint'),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('payment_methods_id_token', sql`${table.id} GLOB 'pm_*'`),
    check('payment_methods_last4_digits', sql`${table.cardLast4} GLOB '[0-9][0-9][0-9][0-9]'`),
    check('payment_methods_verdict_known', sql`${table.verdict} IN ('approved', 'declined')`),
    check('payment_methods_decline_code_only_when_declined', sql`(${table.declineCode} IS NULL) = (${table.verdict} = 'approved')`),
    check('payment_methods_key_whole', sql`(${table.idempotencyKey} IS NULL) = (${table.requestFingerprint} IS NULL)`),
    uniqueIndex('payment_methods_idempotency_key_uq').on(table.idempotencyKey),
    index('payment_methods_created_idx').on(table.createdAt),
  ],
);

export type PaymentMethodRow = typeof paymentMethods.$inferSelect;
export type NewPaymentMethodRow = typeof paymentMethods.$inferInsert;

export type PaymentRow = typeof payments.$inferSelect;
export type NewPaymentRow = typeof payments.$inferInsert;

/**
 * Who holds a charge's idempotency key: the charge made with it, or a void. The order saga, when
 * it must refund a charge whose answer it never saw, names the charge by its key; if no charge
 * was made, it voids the key instead, so a charge that is still on its way (a retry, a slow
 * duplicate) is refused with 409 `charge-voided` rather than taking money for a cancelled order.
 * A charge writes its row here with a plain INSERT in the same batch as the charge, a void with
 * INSERT … ON CONFLICT DO NOTHING: the primary key decides which came first, atomically.
 */
export const chargeKeys = sqliteTable(
  'charge_keys',
  {
    idempotencyKey: text('idempotency_key').primaryKey(),
    kind: text('kind', { enum: ['charge', 'void'] }).notNull(),
    orderId: text('order_id').notNull(),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('charge_keys_kind_known', sql`${table.kind} IN ('charge', 'void')`),
    // Retention walks the oldest keys first (retention.ts).
    index('charge_keys_created_idx').on(table.createdAt),
  ],
);

/**
 * How much of a charge has been refunded, kept beside it so the database refuses an over-refund:
 * each refund adds its amount here in the same batch as the refund row, and the CHECK fails the
 * whole batch when the sum would pass the charge. Concurrent refunds are serialised by D1's
 * single writer; the loser's batch fails and writes nothing, its event included.
 */
export const refundTotals = sqliteTable(
  'refund_totals',
  {
    chargeId: text('charge_id')
      .primaryKey()
      .references(() => payments.id),
    chargedCents: integer('charged_cents').notNull(),
    refundedCents: integer('refunded_cents').notNull(),
  },
  (table) => [check('refund_totals_within_charge', sql`${table.refundedCents} BETWEEN 0 AND ${table.chargedCents}`)],
);

export type ChargeKeyRow = typeof chargeKeys.$inferSelect;
