import { asc, eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { payments, type NewPaymentRow, type PaymentRow } from './schema';

/** A refund to record: its amount is optional (the rest of the charge when omitted). */
export interface RefundToInsert {
  id: string;
  chargeId: string;
  amountCents: number | undefined;
  idempotencyKey: string;
  requestFingerprint: string;
}

/**
 * Charges and refunds in the payments D1. Every write is a single statement that either inserts
 * or does nothing when the idempotency key is taken (UNIQUE index, ON CONFLICT DO NOTHING), so
 * concurrent duplicates race inside SQLite, not in this code: exactly one insert wins and the
 * others read the winner back (`byIdempotencyKey`). Nothing here reads and then writes.
 */
export class PaymentRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  /** The inserted charge, or undefined when the key was already used (by anything). */
  async insertCharge(row: NewPaymentRow & { kind: 'charge' }): Promise<PaymentRow | undefined> {
    const [inserted] = await this.db.insert(payments).values(row).onConflictDoNothing({ target: payments.idempotencyKey }).returning();
    return inserted;
  }

  /**
   * Inserts a refund only if, at that instant, the charge exists, succeeded, and has at least
   * the amount left unrefunded; otherwise (or when the key is taken) inserts nothing and returns
   * undefined. Why it cannot over-refund under concurrency: it is one INSERT … SELECT, and SQLite
   * (D1 is SQLite with a single writer) runs a statement atomically under its write lock, so the
   * sum of earlier refunds it reads cannot change before its own row is written. Two refunds of
   * the last 5.00 are therefore serialised: the second sees nothing left and inserts nothing.
   * Split into a read and a write, both could see 5.00 left and both would be written.
   */
  async insertRefund(refund: RefundToInsert): Promise<PaymentRow | undefined> {
    const amount = refund.amountCents ?? null;
    // The WHERE is also what SQLite's grammar needs before ON CONFLICT in an INSERT … SELECT.
    const inserted = await this.db.get<{ id: string } | undefined>(sql`
      INSERT INTO payments (id, kind, order_id, charge_id, amount_cents, currency, status, idempotency_key, request_fingerprint)
      SELECT ${refund.id}, 'refund', charge.order_id, charge.id, coalesce(${amount}, charge.remaining), charge.currency,
             'succeeded', ${refund.idempotencyKey}, ${refund.requestFingerprint}
      FROM (
        SELECT c.id, c.order_id, c.currency,
               c.amount_cents - (SELECT coalesce(sum(r.amount_cents), 0) FROM payments r WHERE r.charge_id = c.id) AS remaining
        FROM payments c
        WHERE c.id = ${refund.chargeId} AND c.kind = 'charge' AND c.status = 'succeeded'
      ) AS charge
      WHERE coalesce(${amount}, charge.remaining) BETWEEN 1 AND charge.remaining
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id`);
    return inserted ? this.get(inserted.id) : undefined;
  }

  async get(id: string): Promise<PaymentRow | undefined> {
    return this.db.select().from(payments).where(eq(payments.id, id)).get();
  }

  async byIdempotencyKey(key: string): Promise<PaymentRow | undefined> {
    return this.db.select().from(payments).where(eq(payments.idempotencyKey, key)).get();
  }

  /** Unrefunded amount of a charge (0 when fully refunded); for explaining a refused refund only. */
  async remainingCents(charge: PaymentRow): Promise<number> {
    const row = await this.db
      .select({ refunded: sql<number>`coalesce(sum(${payments.amountCents}), 0)` })
      .from(payments)
      .where(eq(payments.chargeId, charge.id))
      .get();
    return charge.amountCents - (row?.refunded ?? 0);
  }

  /** An order's charges and refunds, oldest first; rowid breaks ties within one millisecond. */
  async listByOrder(orderId: string): Promise<PaymentRow[]> {
    return this.db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.createdAt), sql`rowid`);
  }
}
