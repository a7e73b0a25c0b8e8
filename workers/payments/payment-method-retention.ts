import { sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';

/**
 * How long a token no payment uses is kept: 30 days, far past any order saga's deadline (a saga
 * charges with its token within minutes of placing the order). A token a payment uses is kept
 * as long as that payment, which is a financial record.
 */
export const PAYMENT_METHOD_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Tokens one scheduled run deletes at most (a bound per run; the next one goes on). */
const PRUNE_LIMIT = 500;

/** Deletes unused tokens made before `now - PAYMENT_METHOD_RETENTION_MS`; returns how many. */
export async function pruneUnusedPaymentMethods(db: DrizzleD1Database, now: number): Promise<number> {
  const before = new Date(now - PAYMENT_METHOD_RETENTION_MS).toISOString();
  const deleted = await db.all<{ id: string }>(sql`
    DELETE FROM payment_methods WHERE id IN (
      SELECT id FROM payment_methods
      WHERE created_at < ${before} AND NOT EXISTS (SELECT 1 FROM payments WHERE payments.payment_method_id = payment_methods.id)
      LIMIT ${PRUNE_LIMIT})
    RETURNING id`);
  return deleted.length;
}
