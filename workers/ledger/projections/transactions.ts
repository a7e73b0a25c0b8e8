import { and, count, eq, gt, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import type { RecordedEvent } from '../../../shared/event-store/event-store';
import type { AccountEvent } from '../account';
import { transactions, transactionsRebuild } from '../schema';
import type { Projection, ProjectionTarget } from './projection';

/**
 * One row of an account's history. The running balance is either known from the event alone
 * (the opening deposit) or the previous version's balance plus this event's movement.
 */
export interface TransactionChange {
  accountId: string;
  version: number;
  type: AccountEvent['type'];
  amountCents: number;
  balanceAfter: { cents: number } | { previousPlusCents: number };
  /** Epoch ms: when the event was recorded. */
  at: number;
}

/** Pure: the `transactions` row one ledger event adds. Every event is a row, so versions have no gaps. */
export function transactionChanges({ streamId: accountId, version, type, data, recordedAt: at }: RecordedEvent<AccountEvent>): TransactionChange[] {
  const event = { type, data } as AccountEvent;
  switch (event.type) {
    case 'AccountOpened':
      return [{ accountId, version, type: event.type, amountCents: event.data.initialDepositCents, balanceAfter: { cents: event.data.initialDepositCents }, at }];
    case 'MoneyDeposited':
      return [{ accountId, version, type: event.type, amountCents: event.data.amountCents, balanceAfter: { previousPlusCents: event.data.amountCents }, at }];
    case 'MoneyWithdrawn':
      return [{ accountId, version, type: event.type, amountCents: event.data.amountCents, balanceAfter: { previousPlusCents: -event.data.amountCents }, at }];
    case 'AccountFrozen':
      return [{ accountId, version, type: event.type, amountCents: 0, balanceAfter: { previousPlusCents: 0 }, at }];
    default:
      return [];
  }
}

const tableOf = (target: ProjectionTarget) => (target === 'live' ? transactions : (transactionsRebuild as unknown as typeof transactions));

/**
 * The `transactions` projection: an account's history with the balance after each event.
 *
 * The running balance is computed by the INSERT itself from the row of the previous version
 * (statements of one batch run in order, so a page of several events of one account chains).
 * No read before the write, and no dependence on another projection's progress. If that row
 * were missing (a gap: a bug), the subquery is NULL, NOT NULL refuses the row and the batch
 * fails loudly instead of storing a wrong balance.
 */
export const transactionsProjection: Projection<TransactionChange> = {
  name: 'transactions',
  changes: transactionChanges,
  statement(db, target, { balanceAfter, ...change }) {
    const table = tableOf(target);
    // Raw names: inside INSERT INTO, drizzle may render the subquery's columns unqualified.
    const previous = sql`(SELECT "balance_after_cents" FROM ${table} WHERE "account_id" = ${change.accountId} AND "version" = ${change.version - 1})`;
    const balanceAfterCents = 'cents' in balanceAfter ? balanceAfter.cents : sql`${previous} + ${balanceAfter.previousPlusCents}`;
    return db.insert(table).values({ ...change, balanceAfterCents });
  },
  clear: (db, target) => db.delete(tableOf(target)),
  copyShadowToLive: (db) => [db.delete(transactions), db.insert(transactions).select(db.select().from(tableOf('shadow')))],
  countRows: (db, target) => db.select({ rows: count() }).from(tableOf(target)),
};

/** A page of an account's history after `afterVersion`, oldest first (the primary key's order: no sort). */
export const accountTransactions = (db: DrizzleD1Database<any>, accountId: string, { afterVersion, limit }: { afterVersion: number; limit: number }) =>
  db
    .select()
    .from(transactions)
    .where(and(eq(transactions.accountId, accountId), gt(transactions.version, afterVersion)))
    .orderBy(transactions.version)
    .limit(limit);
