import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { check, index, integer, sqliteTable, text, type BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type { CloudEvent } from '../../events/cloud-event';
import type { OutboxDestination, OutboxRecord, OutboxStore, OutboxSummary } from '../../outbox/outbox-message';

/**
 * The transactional outbox (docs/architecture.md, decision 4): a service writes its state change and the
 * event about it in ONE D1 batch (`outboxInsert` is one more statement of that batch), so the
 * event exists if and only if the change committed. The OutboxRelay Durable Object then
 * publishes the rows (shared/outbox/dispatcher.ts). Each service's schema.ts re-exports this
 * table, so drizzle-kit writes it into that service's own migrations (database per service).
 *
 * Times are epoch milliseconds (integers), so "due" is a plain comparison. Rows are never deleted
 * by a failure: an unsent row is retried until it has failed OUTBOX_MAX_ATTEMPTS times, then parked
 * as dead (`dead_at`): kept, counted, listed for operators and published again only when one of
 * them asks (`retryDead`). Sent rows are history: `prune` deletes them past the service's
 * OUTBOX_SENT_RETENTION_MS, a bounded batch per cron tick.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    /** The CloudEvent's id, also the broker's deduplication id. */
    id: text('id').primaryKey(),
    /** OutboxDestination as JSON. */
    destination: text('destination').notNull(),
    /** The CloudEvent's type, for ops and queries without parsing the body. */
    type: text('type').notNull(),
    /** The CloudEvent's JSON, published byte for byte. */
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastError: text('last_error'),
    sentAt: integer('sent_at'),
    /** The broker's message ids (JSON array; one per topic endpoint), once sent. */
    messageIds: text('message_ids'),
    /** Which dispatcher run holds the row, and until when (see `claim` below). */
    claimedBy: text('claimed_by'),
    claimedUntil: integer('claimed_until'),
    /** When the row was parked after its last allowed failed attempt; null while it is retried. */
    deadAt: integer('dead_at'),
  },
  (table) => [
    index('outbox_pending_idx').on(table.sentAt, table.nextAttemptAt),
    index('outbox_sent_idx').on(table.sentAt),
    check('outbox_attempts_non_negative', sql`${table.attempts} >= 0`),
    check('outbox_destination_json', sql`json_valid(${table.destination})`),
    check('outbox_body_json', sql`json_valid(${table.body})`),
    check('outbox_sent_has_message_ids', sql`${table.sentAt} IS NULL OR ${table.messageIds} IS NOT NULL`),
    check('outbox_claim_whole', sql`(${table.claimedBy} IS NULL) = (${table.claimedUntil} IS NULL)`),
  ],
);

export type OutboxRow = typeof outbox.$inferSelect;

/** Any drizzle SQLite database a service holds (D1's, with or without a schema). */
export type SqliteDb = BaseSQLiteDatabase<'async', any, any>;

/**
 * The INSERT of one event's outbox row, NOT executed: put it in the same `db.batch([...])` as the
 * state change it reports, so both commit or neither does. `now` (epoch ms) defaults to now; the
 * row is due at once.
 */
export function outboxInsert(db: SqliteDb, event: CloudEvent, destination: OutboxDestination, options: { now?: number } = {}) {
  const now = options.now ?? Date.now();
  return db.insert(outbox).values({
    id: event.id,
    destination: JSON.stringify(destination),
    type: event.type,
    body: JSON.stringify(event),
    createdAt: now,
    attempts: 0,
    nextAttemptAt: now,
  });
}

const toRecord = (row: OutboxRow): OutboxRecord => ({
  id: row.id,
  destination: row.destination,
  type: row.type,
  body: row.body,
  attempts: row.attempts,
  createdAt: row.createdAt,
  nextAttemptAt: row.nextAttemptAt,
});

/** Neither sent nor parked: the rows the dispatcher still tries. */
const unsent = and(isNull(outbox.sentAt), isNull(outbox.deadAt));
const dead = and(isNull(outbox.sentAt), isNotNull(outbox.deadAt));

/** A parked row as operators see it (`GET /_ops/outbox`). */
export interface DeadOutboxRow {
  id: string;
  type: string;
  destination: string;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  deadAt: number;
}

export interface D1OutboxStore extends OutboxStore {
  /** Retention: deletes up to `limit` rows sent before `sentBefore` (epoch ms); answers how many. */
  prune(sentBefore: number, limit?: number): Promise<number>;
  /** The parked rows, oldest first. */
  listDead(limit?: number): Promise<DeadOutboxRow[]>;
  /** Un-parks one row (or every parked row): due now, attempts from zero. Answers how many. */
  retryDead(id: string | null, now: number): Promise<number>;
}

/** The OutboxStore the dispatcher runs on, over a service's D1. */
export function d1OutboxStore(db: DrizzleD1Database<any>): D1OutboxStore {
  return {
    /**
     * One UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING: SQLite runs a statement atomically
     * under its single write lock, so two dispatchers racing for the same rows (two relays on one
     * database, as the catalog and its canary share one D1) cannot both see a row unclaimed: the
     * second statement runs after the first committed its claim and skips those rows. Never a
     * read followed by a write.
     */
    async claim({ now, limit, claimer, leaseUntil }) {
      const due = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(unsent, lte(outbox.nextAttemptAt, now), or(isNull(outbox.claimedUntil), lte(outbox.claimedUntil, now))))
        .orderBy(asc(outbox.nextAttemptAt), asc(outbox.createdAt))
        .limit(limit);
      const rows = await db
        .update(outbox)
        .set({ claimedBy: claimer, claimedUntil: leaseUntil })
        .where(inArray(outbox.id, due))
        .returning();
      // RETURNING's order is unspecified; publish oldest first.
      return rows.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt).map(toRecord);
    },

    async markSent(rows, { sentAt }) {
      // Whoever holds the claim: the event has been published, which is what the row must say.
      // One UPDATE per row (each keeps its own message ids), sent as one D1 batch: one call, one
      // transaction, however many rows a batch publish sent.
      const updates = rows.map(({ id, messageIds }) =>
        db
          .update(outbox)
          .set({ sentAt, messageIds: JSON.stringify(messageIds), claimedBy: null, claimedUntil: null })
          .where(and(eq(outbox.id, id), unsent)),
      );
      const [first, ...rest] = updates;
      if (first) await db.batch([first, ...rest]);
    },

    async markFailed(id, { claimer, attempts, lastError, nextAttemptAt, deadAt }) {
      // Only while this run still holds the row: a lapsed claim's outcome must not overwrite the
      // newer claimer's.
      await db
        .update(outbox)
        .set({ attempts, lastError, nextAttemptAt, claimedBy: null, claimedUntil: null, deadAt: deadAt ?? null })
        .where(and(eq(outbox.id, id), unsent, eq(outbox.claimedBy, claimer)));
    },

    /**
     * Pending rows only are aggregated (the `(sent_at, next_attempt_at)` index serves
     * `sent_at IS NULL`); `sent` counts the sent rows still kept (see `prune`).
     */
    async summary(): Promise<OutboxSummary> {
      const [pendingRow, sentRow, deadRow] = await db.batch([
        db
          .select({
            pending: sql<number>`count(*)`,
            oldestPendingAt: sql<number | null>`min(${outbox.createdAt})`,
            // A claimed row is due again when its claim ends, if that is later than its next attempt.
            nextAttemptAt: sql<number | null>`min(max(${outbox.nextAttemptAt}, coalesce(${outbox.claimedUntil}, 0)))`,
          })
          .from(outbox)
          .where(unsent),
        db.select({ sent: sql<number>`count(*)` }).from(outbox).where(isNotNull(outbox.sentAt)),
        db.select({ dead: sql<number>`count(*)` }).from(outbox).where(dead),
      ]);
      const row = pendingRow[0];
      return {
        pending: Number(row?.pending ?? 0),
        sent: Number(sentRow[0]?.sent ?? 0),
        dead: Number(deadRow[0]?.dead ?? 0),
        oldestPendingAt: row?.oldestPendingAt ?? null,
        nextAttemptAt: row?.nextAttemptAt ?? null,
      };
    },

    /**
     * Retention: deletes up to `limit` rows sent before `sentBefore` (epoch ms), oldest first
     * through the `sent_at` index, so the table holds what is pending plus a recent history, not
     * every event ever. Never touches an unsent or parked row.
     */
    async prune(sentBefore: number, limit = 500): Promise<number> {
      const old = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(isNotNull(outbox.sentAt), lt(outbox.sentAt, sentBefore)))
        .orderBy(asc(outbox.sentAt))
        .limit(limit);
      const deleted = await db.delete(outbox).where(inArray(outbox.id, old)).returning({ id: outbox.id });
      return deleted.length;
    },

    async listDead(limit = 100): Promise<DeadOutboxRow[]> {
      const rows = await db.select().from(outbox).where(dead).orderBy(asc(outbox.deadAt)).limit(limit);
      return rows.map((row) => ({
        id: row.id,
        type: row.type,
        destination: row.destination,
        attempts: row.attempts,
        lastError: row.lastError,
        createdAt: row.createdAt,
        deadAt: row.deadAt as number,
      }));
    },

    async retryDead(id: string | null, now: number): Promise<number> {
      const rows = await db
        .update(outbox)
        .set({ deadAt: null, attempts: 0, nextAttemptAt: now, claimedBy: null, claimedUntil: null })
        .where(id === null ? dead : and(dead, eq(outbox.id, id)))
        .returning({ id: outbox.id });
      return rows.length;
    },
  };
}
