import { desc, eq } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { balances } from '../schema';

/**
 * The `top` read model: accounts by balance, highest first. Not a table of its own, on purpose:
 * it is the `balances` projection read through its index on (balance_cents, account_id).
 *
 * - A top-N table cannot be kept from events alone: when a top account's balance drops, the
 *   next one in is whichever account is now richest, which only the full balance set knows. So a
 *   separate `top` table would be a second full copy of `balances`, written on every event,
 *   with a checkpoint of its own that could stand at another position (two answers to "what is
 *   X's balance").
 * - The index is SQLite's own sorted copy, updated in the same statement as the row, so it can
 *   never disagree with `balances` and needs no checkpoint, no rebuild and no code. SQLite walks
 *   it backwards for `ORDER BY balance_cents DESC, account_id DESC LIMIT n`: n index entries
 *   and n row lookups, no sort (the test checks the query plan).
 * So `top` is exactly as fresh as `balances`, and rebuilding `balances` rebuilds it. Ties go to
 * the greater account id, so the order is total and the same on every read.
 *
 * Amounts in different currencies are not comparable: with `currency` the ranking is that
 * currency's, through a second index that puts `currency` in front (the same walk, within one
 * currency); without it, every account by its minor units as they are.
 */
export const topAccounts = (db: DrizzleD1Database<any>, limit: number, currency?: string) =>
  db
    .select()
    .from(balances)
    .where(currency === undefined ? undefined : eq(balances.currency, currency))
    .orderBy(desc(balances.balanceCents), desc(balances.accountId))
    .limit(limit);
