import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// The event store's append-only table (shared): every account is one stream of its events.
export { events } from '../../shared/adapters/cloudflare/d1-event-store';
// The transactional outbox (shared): each append writes its events' outbox rows in the same batch.
export { outbox } from '../../shared/adapters/cloudflare/outbox-table';

/**
 * An account's state as it stood at `version`, written in the same batch as the append that
 * reached that version (so a snapshot never describes events that did not commit). Only a
 * cache of the events: loading takes the latest one plus the events after it, and deleting them
 * all changes no answer. `schema_version` names the state's shape: a load ignores snapshots of
 * another shape, so changing Account needs no migration of old snapshots.
 */
export const snapshots = sqliteTable(
  'snapshots',
  {
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    /** JSON. */
    state: text('state').notNull(),
    /** Epoch milliseconds. */
    takenAt: integer('taken_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.streamId, table.version] }),
    check('snapshots_version_positive', sql`${table.version} >= 1`),
    check('snapshots_state_json', sql`json_valid(${table.state})`),
  ],
);

export type SnapshotRow = typeof snapshots.$inferSelect;

/**
 * The read side (CQRS): tables built from the events by the projections in projections/, each
 * only a cache of the events (rebuildable from zero: POST /ledger/projections/:name/rebuild).
 * Each projection's rows and its checkpoint change in one batch, so a row set always describes
 * exactly the events up to its checkpoint.
 */

/** How far each projection has read the events: the global position of the last event applied. */
export const projectionCheckpoints = sqliteTable(
  'projection_checkpoints',
  {
    /** A projection's name (`balances`, `transactions`), or `<name>:rebuild` for its shadow copy. */
    name: text('name').primaryKey(),
    // NOT NULL is load-bearing: a checkpoint move that finds another position sets NULL, and
    // this refusal undoes the whole batch (projections/projection-runner.ts).
    position: integer('position').notNull(),
  },
  (table) => [check('projection_checkpoints_position_non_negative', sql`${table.position} >= 0`)],
);

// One column set per read model, used twice: the live table and the shadow a rebuild fills
// while the live one keeps serving (and keeps following new events).
const balanceColumns = () => ({
  accountId: text('account_id').primaryKey(),
  owner: text('owner').notNull(),
  currency: text('currency').notNull(),
  balanceCents: integer('balance_cents').notNull(),
  status: text('status', { enum: ['open', 'frozen'] }).notNull(),
  /** The account's version after the last event applied. */
  version: integer('version').notNull(),
});

/**
 * The `balances` projection: one row per account. It also serves the `top` read model: the
 * index on (balance_cents, account_id) is SQLite's own sorted copy, kept in the same write, so
 * `ORDER BY balance_cents DESC, account_id DESC LIMIT n` reads n index entries (no sort, no
 * second table to keep in step). See projections/top.ts.
 */
export const balances = sqliteTable('balances', balanceColumns(), (table) => [
  index('balances_by_balance').on(table.balanceCents, table.accountId),
  // The same ranking within one currency (`top?currency=EUR`): amounts in different currencies
  // are not comparable, so a per-currency list is the one that means something.
  index('balances_by_currency_balance').on(table.currency, table.balanceCents, table.accountId),
]);
/** The shadow a rebuild of `balances` fills (no index: nothing reads it by balance). */
export const balancesRebuild = sqliteTable('balances_rebuild', balanceColumns());

const transactionColumns = () => ({
  accountId: text('account_id').notNull(),
  version: integer('version').notNull(),
  /** The event's type: AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountFrozen. */
  type: text('type').notNull(),
  /** What the event moved (the opening deposit for AccountOpened, 0 for AccountFrozen). */
  amountCents: integer('amount_cents').notNull(),
  // NOT NULL is load-bearing too: a row whose previous version is missing computes NULL here
  // and fails its batch, instead of writing a wrong running balance (projections/transactions.ts).
  balanceAfterCents: integer('balance_after_cents').notNull(),
  /** When the event was recorded, epoch ms. */
  at: integer('at').notNull(),
});

/** The `transactions` projection: one row per event, the running balance after it. */
export const transactions = sqliteTable('transactions', transactionColumns(), (table) => [primaryKey({ columns: [table.accountId, table.version] })]);
/** The shadow a rebuild of `transactions` fills. */
export const transactionsRebuild = sqliteTable('transactions_rebuild', transactionColumns(), (table) => [
  primaryKey({ columns: [table.accountId, table.version] }),
]);

export type BalanceRow = typeof balances.$inferSelect;
export type TransactionRow = typeof transactions.$inferSelect;

/**
 * Idempotency keys of ledger commands (docs/architecture.md, decision 3): a command sent with
 * `Idempotency-Key` records its key here IN THE SAME BATCH as the events it appended, so the key
 * exists exactly when its effect does. A retry finds the row and gets the first answer again (the
 * account as of `version`); the primary key refuses a racing twin, whose whole batch (events
 * included) then rolls back and which answers the winner's result. Keys are per user: two users'
 * keys never collide. A refused command (422) records nothing, so its retry is decided afresh;
 * nor does a command that changes nothing (freezing a frozen account), which is idempotent as it
 * is. Rows are kept for LEDGER_IDEMPOTENCY_RETENTION_MS (24 h) and then pruned by the cron: a
 * key sent again after that is a new request, as with the payment processors' keys.
 */
export const commandKeys = sqliteTable(
  'command_keys',
  {
    userId: text('user_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    accountId: text('account_id').notNull(),
    /** SHA-256 of the operation and its body: the same key for another request is 422. */
    fingerprint: text('fingerprint').notNull(),
    /** The account's version right after the command: a replay answers the account as of it. */
    version: integer('version').notNull(),
    /** Epoch milliseconds. */
    recordedAt: integer('recorded_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.idempotencyKey] }),
    // The cron's prune walks the oldest rows first (command-keys.ts pruneCommandKeys).
    index('command_keys_by_recorded_at').on(table.recordedAt),
  ],
);

export type CommandKeyRow = typeof commandKeys.$inferSelect;
