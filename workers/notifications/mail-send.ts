import { and, eq, isNotNull, sql } from 'drizzle-orm';
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
 * Only a queued mail is sent, and a queued mail always has its recipient (mails_addressed): a
 * held mail's request (one published before it was held, say) changes nothing; its own request
 * comes when it is released (mail-release.ts).
 */
export function markSentStatement(db: DrizzleD1Database, mailId: string, attempts: number) {
  return db
    .update(mails)
    .set({ status: 'sent', sentAt: sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`, attempts })
    .where(and(eq(mails.id, mailId), eq(mails.status, 'queued'), isNotNull(mails.recipient)));
}
