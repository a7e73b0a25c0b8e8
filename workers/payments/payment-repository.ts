import { and, asc, eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { constraintFailure } from '../../shared/adapters/cloudflare/d1-constraint';
import { outboxInsert } from '../../shared/adapters/cloudflare/outbox-table';
import type { CloudEvent } from '../../shared/events/cloud-event';
import { PAYMENT_EVENTS } from './payment-events';
import { chargeKeys, paymentMethods, payments, refundTotals, type ChargeKeyRow, type NewPaymentMethodRow, type NewPaymentRow, type PaymentMethodRow, type PaymentRow } from './schema';

/** Why a payment's batch wrote nothing. */
export type WriteRefusal =
  /** Its idempotency key is taken (by an earlier request, or a void for a charge's key). */
  | 'key-taken'
  /** A refund would pass what the charge has left (refund_totals' CHECK). */
  | 'exceeds-charge';

/**
 * Charges and refunds in the payments D1. Every write is ONE batch that holds the payment row
 * AND its event's outbox row (docs/architecture.md, decision 4): the rows are plain INSERTs, so a refusal
 * (a taken key, an over-refund) is a constraint failure that rolls the whole batch back, event
 * included. Concurrent duplicates therefore race inside SQLite (D1's single writer), not in
 * this code: exactly one batch commits, the others fail and read the winner back. What is read
 * before a write are facts that never change (a charge's amount, currency and status); the one
 * changing quantity, how much of a charge is refunded, is checked by the database itself.
 */
export class PaymentRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  /**
   * A charge, its claim on its idempotency key (charge_keys: a void already there refuses it)
   * and its event, in one batch; with the token of its card when the charge named a card (so a
   * refused charge leaves no token behind either).
   */
  async insertCharge(row: NewPaymentRow & { kind: 'charge' }, event: CloudEvent, newMethod?: NewPaymentMethodRow): Promise<'recorded' | WriteRefusal> {
    const db = this.db;
    const claim = db.insert(chargeKeys).values({ idempotencyKey: row.idempotencyKey, kind: 'charge', orderId: row.orderId });
    const rest = [db.insert(payments).values(row), outboxInsert(db, event, PAYMENT_EVENTS)] as const;
    return this.refusalOf(() => (newMethod ? db.batch([claim, db.insert(paymentMethods).values(newMethod), ...rest]) : db.batch([claim, ...rest])));
  }

  /** A token from a tokenization request; its key's UNIQUE index refuses a duplicate. */
  async insertPaymentMethod(row: NewPaymentMethodRow): Promise<'recorded' | WriteRefusal> {
    return this.refusalOf(() => this.db.insert(paymentMethods).values(row).run());
  }

  async paymentMethod(id: string): Promise<PaymentMethodRow | undefined> {
    return this.db.select().from(paymentMethods).where(eq(paymentMethods.id, id)).get();
  }

  async paymentMethodByKey(key: string): Promise<PaymentMethodRow | undefined> {
    return this.db.select().from(paymentMethods).where(eq(paymentMethods.idempotencyKey, key)).get();
  }

  /**
   * A refund of `charge` and its event, in one batch with the charge's refunded total: the total
   * goes up by the amount (starting, the first time, from the refunds already recorded), and
   * its CHECK refuses the batch if that passes the charge. Two refunds of the last 5.00 are
   * serialised by D1: the second's CHECK fails and it writes nothing.
   */
  async insertRefund(row: NewPaymentRow & { kind: 'refund' }, charge: PaymentRow, event: CloudEvent): Promise<'recorded' | WriteRefusal> {
    const db = this.db;
    return this.refusalOf(() =>
      db.batch([
        db
          .insert(refundTotals)
          .values({
            chargeId: charge.id,
            chargedCents: charge.amountCents,
            refundedCents: sql`(SELECT coalesce(sum(${payments.amountCents}), 0) FROM ${payments} WHERE ${payments.chargeId} = ${charge.id}) + ${row.amountCents}`,
          })
          .onConflictDoUpdate({ target: refundTotals.chargeId, set: { refundedCents: sql`${refundTotals.refundedCents} + ${row.amountCents}` } }),
        db.insert(payments).values(row),
        outboxInsert(db, event, PAYMENT_EVENTS),
      ]),
    );
  }

  /**
   * Voids a charge key that no charge holds, atomically (INSERT … WHERE NOT EXISTS … ON CONFLICT
   * DO NOTHING): true when this call voided it, false when a charge (or an earlier void) holds
   * it. From then on a charge with that key is refused (its charge_keys INSERT fails).
   */
  async voidChargeKey(key: string, orderId: string): Promise<boolean> {
    const voided = await this.db.all<{ idempotency_key: string }>(sql`
      INSERT INTO charge_keys (idempotency_key, kind, order_id)
      SELECT ${key}, 'void', ${orderId}
      WHERE NOT EXISTS (SELECT 1 FROM payments WHERE idempotency_key = ${key})
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING idempotency_key`);
    return voided.length > 0;
  }

  async chargeKey(key: string): Promise<ChargeKeyRow | undefined> {
    return this.db.select().from(chargeKeys).where(eq(chargeKeys.idempotencyKey, key)).get();
  }

  async get(id: string): Promise<PaymentRow | undefined> {
    return this.db.select().from(payments).where(eq(payments.id, id)).get();
  }

  async byIdempotencyKey(key: string): Promise<PaymentRow | undefined> {
    return this.db.select().from(payments).where(eq(payments.idempotencyKey, key)).get();
  }

  /** Unrefunded amount of a charge (0 when fully refunded), from its refunds as recorded. */
  async remainingCents(charge: PaymentRow): Promise<number> {
    const row = await this.db
      .select({ refunded: sql<number>`coalesce(sum(${payments.amountCents}), 0)` })
      .from(payments)
      .where(eq(payments.chargeId, charge.id))
      .get();
    return charge.amountCents - (row?.refunded ?? 0);
  }

  /** An order's charges and refunds, oldest first; rowid breaks ties within one millisecond. */
  /** An order's payments, oldest first; only `customerId`'s when one is given (a customer's own view). */
  async listByOrder(orderId: string, customerId?: string): Promise<PaymentRow[]> {
    const mine = customerId === undefined ? eq(payments.orderId, orderId) : and(eq(payments.orderId, orderId), eq(payments.customerId, customerId));
    return this.db.select().from(payments).where(mine).orderBy(asc(payments.createdAt), sql`rowid`);
  }

  /** Runs a batch; a refusal the schema expresses becomes its name, anything else is thrown. */
  private async refusalOf(write: () => Promise<unknown>): Promise<'recorded' | WriteRefusal> {
    try {
      await write();
      return 'recorded';
    } catch (error) {
      const failure = constraintFailure(error);
      if (failure?.kind === 'unique') return 'key-taken';
      if (failure?.kind === 'check' && failure.target === 'refund_totals_within_charge') return 'exceeds-charge';
      throw error;
    }
  }
}
