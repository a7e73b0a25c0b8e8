import { and, eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { z } from 'zod';
import { mails } from './schema';

/** A `mail.requested` event's data. */
export const mailRequestedData = z.object({ mailId: z.string().min(1).max(64) });

/**
 * The simulated send: the mail is recorded as sent. One conditional UPDATE (`WHERE status =
 * 'queued'`), so whatever reaches here twice (a redelivery, a second request for the same mail)
 * marks it sent once: the second finds nothing queued and changes nothing. `attempts` records the
 * delivery that succeeded (QStash's Upstash-Retried + 1): failed tries (chaos, a crash) never
 * reach this statement, so counting them here is the only way they are seen.
 *
 * A payment mail is queued without a recipient (payment events carry only the order id); it is
 * addressed at send time to the user the order's other notifications name, if any by then.
 */
export function markSentStatement(db: DrizzleD1Database, mailId: string, attempts: number) {
  return db
    .update(mails)
    .set({
      status: 'sent',
      sentAt: sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      attempts,
      recipient: sql`coalesce(${mails.recipient}, (
        SELECT other.user_id FROM notifications AS own
        JOIN notifications AS other ON other.order_id = own.order_id
        WHERE own.id = ${mails.notificationId} AND other.user_id IS NOT NULL
        LIMIT 1))`,
    })
    .where(and(eq(mails.id, mailId), eq(mails.status, 'queued')));
}
