import { z } from 'zod';
import type { PaymentMethodRow, PaymentRow } from './schema';

/**
 * Largest single amount, in minor units (1,000,000.00): far inside 2^53, so JSON numbers and
 * SQLite integers stay exact, and a typo of a few extra zeros is refused, not charged.
 */
export const MAX_AMOUNT_CENTS = 100_000_000;

/** The test card processors document as always approved; a charge without a card uses it. */
export const DEFAULT_CARD = '4242424242424242';

// z.number().int() accepts only safe integers, so 1e300, 0.5 and "100" all fail here.
const amountCents = z.number().int().positive().max(MAX_AMOUNT_CENTS);

/** A card number as the test cards are written: 12 to 19 digits. */
const cardNumber = z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits');

/** A token from POST /payments/payment-methods. */
export const paymentMethodId = z.string().regex(/^pm_[0-9a-f]{32}$/, 'must be a payment method token (pm_…)');

/**
 * A charge names its card by token (`paymentMethod`, what the order saga sends) or, for an
 * operator, by number (`card`, tokenized on the way in); neither is the approved test card.
 */
export const chargeInput = z
  .object({
    orderId: z.string().min(1).max(128),
    amountCents,
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
    card: cardNumber.optional(),
    paymentMethod: paymentMethodId.optional(),
    /** Whose payment it is (the saga passes the order's user): only they, or an admin, list it. */
    customerId: z.string().min(1).max(128).optional(),
  })
  .strict()
  .refine((input) => input.card === undefined || input.paymentMethod === undefined, {
    message: 'name the card or its payment method, not both',
    path: ['paymentMethod'],
  });

/** POST /payments/payment-methods: the card to tokenize. */
export const tokenizeInput = z.object({ card: cardNumber }).strict();
export type TokenizeInput = z.infer<typeof tokenizeInput>;

export const refundByChargeInput = z
  .object({
    chargeId: z.string().min(1).max(64),
    /** Omitted: whatever of the charge is still unrefunded. */
    amountCents: amountCents.optional(),
  })
  .strict();

/** The order saga's form: the charge named by the key it was made with (refunds.ts refundByChargeKey). */
export const refundByChargeKeyInput = z
  .object({
    orderId: z.string().min(1).max(128),
    chargeIdempotencyKey: z.string().regex(/^[\x21-\x7E]{1,255}$/, 'must be 1 to 255 visible ASCII characters'),
  })
  .strict();

const namesChargeKey = (body: unknown) => typeof body === 'object' && body !== null && 'chargeIdempotencyKey' in body;

/**
 * A refund names its charge by id (`{chargeId, amountCents?}`) or, for the saga, by order and
 * charge key (`{orderId, chargeIdempotencyKey}`). The form is chosen by whether
 * `chargeIdempotencyKey` is present, so field errors name the fields of the form meant (a plain
 * union would report only "invalid input").
 */
export const refundInput = z.unknown().transform((body, ctx): RefundByChargeInput | RefundByChargeKeyInput => {
  const result = (namesChargeKey(body) ? refundByChargeKeyInput : refundByChargeInput).safeParse(body);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] });
  return z.NEVER;
});

export const listQuery = z.object({ orderId: z.string().min(1).max(128) });

export const paymentIdParam = z.object({ id: z.string().min(1).max(64) });

export type ChargeInput = z.infer<typeof chargeInput>;
export type RefundByChargeInput = z.infer<typeof refundByChargeInput>;
export type RefundByChargeKeyInput = z.infer<typeof refundByChargeKeyInput>;
export type RefundInput = RefundByChargeInput | RefundByChargeKeyInput;

/** A charge as the API shows it: never any card data. */
export interface Charge {
  id: string;
  kind: 'charge';
  orderId: string;
  amountCents: number;
  currency: string;
  status: PaymentRow['status'];
  declineCode?: string;
  createdAt: string;
}

export interface Refund {
  id: string;
  kind: 'refund';
  chargeId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: PaymentRow['status'];
  createdAt: string;
}

/** A tokenized card as the API shows it: the token, never the number. */
export interface PaymentMethod {
  id: string;
  card: { last4: string; fingerprint: string };
  createdAt: string;
}

export const toPaymentMethod = (row: PaymentMethodRow): PaymentMethod => ({
  id: row.id,
  card: { last4: row.cardLast4, fingerprint: row.cardFingerprint },
  createdAt: row.createdAt,
});

/** One row in an order's payment timeline (docs/api.md's `GET /api/payments?orderId=` items). */
export interface PaymentListItem {
  id: string;
  kind: PaymentRow['kind'];
  amountCents: number;
  currency: string;
  status: PaymentRow['status'];
  createdAt: string;
}

export function toPayment(row: PaymentRow): Charge | Refund {
  if (row.kind === 'refund') {
    // The schema's CHECK guarantees a refund has its charge; this only narrows the type.
    if (row.chargeId === null) throw new Error(`refund ${row.id} has no charge`);
    return {
      id: row.id,
      kind: 'refund',
      chargeId: row.chargeId,
      orderId: row.orderId,
      amountCents: row.amountCents,
      currency: row.currency,
      status: row.status,
      createdAt: row.createdAt,
    };
  }
  return {
    id: row.id,
    kind: 'charge',
    orderId: row.orderId,
    amountCents: row.amountCents,
    currency: row.currency,
    status: row.status,
    ...(row.declineCode ? { declineCode: row.declineCode } : {}),
    createdAt: row.createdAt,
  };
}

export const toListItem = (row: PaymentRow): PaymentListItem => ({
  id: row.id,
  kind: row.kind,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  createdAt: row.createdAt,
});

/** A refund by charge key that found no charge: the key is void (refunds.ts). */
export interface ChargeVoided {
  kind: 'void';
  orderId: string;
  chargeIdempotencyKey: string;
}

/** A refund by charge key whose charge has nothing to give back. */
export interface NothingRefunded {
  kind: 'no-refund';
  reason: 'charge-declined' | 'fully-refunded';
  orderId: string;
  chargeIdempotencyKey: string;
  chargeId: string;
}
