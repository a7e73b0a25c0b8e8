import { count, eq, sql } from 'drizzle-orm';
import type { RecordedEvent } from '../../../shared/event-store/event-store';
import type { AccountEvent } from '../account';
import { balances, balancesRebuild, type BalanceRow } from '../schema';
import type { Projection, ProjectionTarget } from './projection';

/** What one event does to the `balances` rows. */
export type BalanceChange =
  | { op: 'open'; row: BalanceRow }
  | { op: 'move'; accountId: string; deltaCents: number; version: number }
  | { op: 'freeze'; accountId: string; version: number };

/** Pure: the `balances` change one ledger event makes. */
export function balanceChanges({ streamId: accountId, version, type, data }: RecordedEvent<AccountEvent>): BalanceChange[] {
  const event = { type, data } as AccountEvent;
  switch (event.type) {
    case 'AccountOpened':
      return [{ op: 'open', row: { accountId, owner: event.data.owner, currency: event.data.currency, balanceCents: event.data.initialDepositCents, status: 'open', version } }];
    case 'MoneyDeposited':
      return [{ op: 'move', accountId, deltaCents: event.data.amountCents, version }];
    case 'MoneyWithdrawn':
      return [{ op: 'move', accountId, deltaCents: -event.data.amountCents, version }];
    case 'AccountFrozen':
      return [{ op: 'freeze', accountId, version }];
    default:
      return [];
  }
}

// The live table and its shadow have the same columns; only the name differs.
const tableOf = (target: ProjectionTarget) => (target === 'live' ? balances : (balancesRebuild as unknown as typeof balances));

/**
 * The `balances` projection: one row per account, as the aggregate would load it (owner,
 * currency, balance, status, version). Also the source of the `top` read model (top.ts).
 */
export const balancesProjection: Projection<BalanceChange> = {
  name: 'balances',
  changes: balanceChanges,
  statement(db, target, change) {
    const table = tableOf(target);
    switch (change.op) {
      case 'open':
        return db.insert(table).values(change.row);
      case 'move':
        return db
          .update(table)
          .set({ balanceCents: sql`${table.balanceCents} + ${change.deltaCents}`, version: change.version })
          .where(eq(table.accountId, change.accountId));
      case 'freeze':
        return db.update(table).set({ status: 'frozen', version: change.version }).where(eq(table.accountId, change.accountId));
    }
  },
  clear: (db, target) => db.delete(tableOf(target)),
  copyShadowToLive: (db) => [db.delete(balances), db.insert(balances).select(db.select().from(tableOf('shadow')))],
  countRows: (db, target) => db.select({ rows: count() }).from(tableOf(target)),
};
