import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { CloudEvent } from '../../events/cloud-event';
import type { SqliteDb } from './outbox-table';

/**
 * The idempotent consumer's inbox: one row per delivery a consumer has acted on. The row is the
 * FIRST statement of the same D1 batch as the consumer's effects, a plain INSERT (no ON
 * CONFLICT): a duplicate violates a UNIQUE constraint, which rolls the whole batch back, so a
 * duplicate applies nothing. Two keys catch two kinds of duplicate:
 * - `message_id` (PK): QStash redelivering the same message (a retry after a lost 2xx);
 * - `(consumer, event_id)`: the same event published twice under new message ids (a producer
 *   re-publishing after the broker's deduplication window), per consumer, since one event
 *   fans out to several consumers that may share a database.
 * Each service's schema.ts re-exports this table, so it lands in that service's migrations.
 *
 * Retention: a row only has to outlive every redelivery of its message (QStash's longest retry
 * schedule) and any re-publish of its event, so the owning service's cron deletes rows older
 * than its INBOX_RETENTION_MS, a bounded batch per tick (retention.ts), through `received_at`'s
 * index. A delivery that acts on nothing writes no row at all (delivery-handler.ts).
 */
export const inbox = sqliteTable(
  'inbox',
  {
    /** QStash's `Upstash-Message-Id`. */
    messageId: text('message_id').primaryKey(),
    /** The consumer's name (topology.json `consumers`). */
    consumer: text('consumer').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    /** Epoch milliseconds. */
    receivedAt: integer('received_at').notNull(),
  },
  (table) => [uniqueIndex('inbox_consumer_event_uq').on(table.consumer, table.eventId), index('inbox_received_idx').on(table.receivedAt)],
);

export type InboxRow = typeof inbox.$inferSelect;

export interface InboxEntry {
  messageId: string;
  consumer: string;
  event: Pick<CloudEvent, 'id' | 'type'>;
  /** Epoch ms; default now. */
  receivedAt?: number;
}

/** The inbox INSERT, NOT executed: the first statement of the consumer's batch. */
export function inboxInsert(db: SqliteDb, entry: InboxEntry) {
  return db.insert(inbox).values({
    messageId: entry.messageId,
    consumer: entry.consumer,
    eventId: entry.event.id,
    eventType: entry.event.type,
    receivedAt: entry.receivedAt ?? Date.now(),
  });
}

/** SQLite's words for a UNIQUE failure on the inbox table (either key), as D1 passes them on. */
const INBOX_UNIQUE = /UNIQUE constraint failed: inbox\./;

/**
 * Whether a failed batch was refused by the inbox, i.e. the delivery is a duplicate. D1 reports
 * SQLite's message (`D1_ERROR: UNIQUE constraint failed: inbox.message_id: SQLITE_CONSTRAINT`),
 * sometimes wrapped (drizzle), so the error's causes are read too.
 */
export function isInboxDuplicate(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : '';
    if (INBOX_UNIQUE.test(message)) return true;
  }
  return false;
}
