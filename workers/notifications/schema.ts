import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// The shared messaging tables, re-exported so drizzle-kit writes them into this service's own
// migrations (database per service).
export { inbox } from '../../shared/adapters/cloudflare/inbox-table';
export { outbox } from '../../shared/adapters/cloudflare/outbox-table';

/**
 * The notifications service's own database (one D1 per service). A notification is one event
 * this service acted on; its mails are what that event makes us send. The inbox (deduplicated
 * deliveries) and the outbox (mail requests waiting to be published) live here too, so an event's
 * effects, its inbox row and its outgoing messages commit in ONE D1 batch (docs/architecture.md, decision 4).
 */
export const notifications = sqliteTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    /**
     * The CloudEvent's id: UNIQUE, so the same event is never acted on twice even if the inbox
     * were bypassed (the inbox's UNIQUE(consumer, event_id) is the first guard).
     */
    eventId: text('event_id').notNull(),
    /** The event type (`order.completed`, `payment.refunded`, ...). */
    kind: text('kind').notNull(),
    orderId: text('order_id').notNull(),
    /** Null when the event does not name the user (a payment event without its customer). */
    userId: text('user_id'),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    uniqueIndex('notifications_event_id_uq').on(table.eventId),
    index('notifications_order_idx').on(table.orderId, table.createdAt),
    index('notifications_kind_idx').on(table.kind),
    // A user's own notifications, newest first, a page at a time (GET /notifications).
    index('notifications_user_idx').on(table.userId, table.createdAt, table.id),
    // Retention walks the oldest first (retention.ts).
    index('notifications_created_idx').on(table.createdAt),
  ],
);

export const MAIL_PRIORITIES = ['transactional', 'bulk'] as const;
/**
 * A mail's life: `queued` (addressed, its send request on its way) → `sent`. A mail whose event
 * did not name its recipient is `held` (no send request) until an event of the same order names
 * the user, then queued (mail-release.ts); still held after MAIL_HOLD_MS it is `undeliverable`,
 * for good. Nothing is ever sent without a recipient (mails_addressed).
 */
export const MAIL_STATUSES = ['held', 'queued', 'sent', 'undeliverable'] as const;

export const mails = sqliteTable(
  'mails',
  {
    id: text('id').primaryKey(),
    notificationId: text('notification_id')
      .notNull()
      .references(() => notifications.id),
    /** Which QStash queue carries its send request (mail-priority.ts). */
    priority: text('priority', { enum: MAIL_PRIORITIES }).notNull(),
    template: text('template').notNull(),
    /** The user id the mail is for; null only while held (or undeliverable: never known). */
    recipient: text('recipient'),
    status: text('status', { enum: MAIL_STATUSES }).notNull().default('queued'),
    /** Deliveries of its send request it took, counted when it is sent (Upstash-Retried + 1). */
    attempts: integer('attempts').notNull().default(0),
    sentAt: text('sent_at'),
    createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (table) => [
    check('mails_priority_known', sql`${table.priority} IN ('transactional', 'bulk')`),
    check('mails_status_known', sql`${table.status} IN ('held', 'queued', 'sent', 'undeliverable')`),
    // Queued or sent only with a recipient: a send never goes to no one.
    check('mails_addressed', sql`${table.recipient} IS NOT NULL OR ${table.status} IN ('held', 'undeliverable')`),
    // Sent exactly when it has a send time: the conditional UPDATE sets both or neither.
    check('mails_sent_shape', sql`(${table.status} = 'sent') = (${table.sentAt} IS NOT NULL)`),
    check('mails_attempts_not_negative', sql`${table.attempts} >= 0`),
    index('mails_notification_idx').on(table.notificationId),
    index('mails_status_idx').on(table.status, table.priority),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;
export type NewNotificationRow = typeof notifications.$inferInsert;
export type MailRow = typeof mails.$inferSelect;
export type NewMailRow = typeof mails.$inferInsert;
export type MailPriority = (typeof MAIL_PRIORITIES)[number];
