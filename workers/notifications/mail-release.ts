import type { BatchItem } from 'drizzle-orm/batch';
import { and, eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { mailRequestInsert } from './notification-writes';
import { mails, type MailPriority } from './schema';

/**
 * How long a held mail waits for its recipient before it is given up as `undeliverable`. A day:
 * the order saga ends within minutes, and its order event names the user; a mail still held after
 * that belongs to a payment no order event will ever name (an operator's charge without a customer).
 */
export const MAIL_HOLD_MS = 24 * 60 * 60 * 1000;

/** Held mails one sweep looks at, at most: a bound per scheduled run (the next run goes on). */
export const SWEEP_LIMIT = 100;

interface HeldMail {
  id: string;
  priority: MailPriority;
  created_at: string;
  /** The user some notification of the mail's order names, if any does by now. */
  user_id: string | null;
}

export interface ReleaseResult {
  /** Addressed and queued, each with its send request. */
  released: number;
  /** Held past MAIL_HOLD_MS with no user known: given up. */
  undeliverable: number;
}

/**
 * Held mails (of one order, or the oldest of any: the scheduled sweep) whose order's user is now
 * known are addressed to them and queued, each with its send request, in one batch; those held
 * past MAIL_HOLD_MS with no user known become `undeliverable`. Every UPDATE is conditional on the
 * mail still being held, and each send request has an id derived from its mail (a second release
 * of the same mail adds nothing), so two releases racing (a delivery's and the sweep's) are
 * harmless: whichever runs second finds nothing held, and a send request for a mail already sent
 * changes nothing (mail-send.ts).
 */
export async function releaseHeldMails(
  db: DrizzleD1Database,
  options: { orderId?: string; hooksBaseUrl: string; now: number; limit?: number },
): Promise<ReleaseResult> {
  const ofOrder = options.orderId === undefined ? sql`` : sql`AND owner.order_id = ${options.orderId}`;
  const held = await db.all<HeldMail>(sql`
    SELECT mail.id, mail.priority, mail.created_at,
      (SELECT other.user_id FROM notifications AS other
        WHERE other.order_id = owner.order_id AND other.user_id IS NOT NULL LIMIT 1) AS user_id
    FROM mails AS mail JOIN notifications AS owner ON owner.id = mail.notification_id
    WHERE mail.status = 'held' ${ofOrder}
    ORDER BY mail.created_at LIMIT ${options.limit ?? SWEEP_LIMIT}`);

  const statements: BatchItem<'sqlite'>[] = [];
  const result: ReleaseResult = { released: 0, undeliverable: 0 };
  const stillHeld = (id: string) => and(eq(mails.id, id), eq(mails.status, 'held'));
  for (const mail of held) {
    if (mail.user_id !== null) {
      statements.push(db.update(mails).set({ recipient: mail.user_id, status: 'queued' }).where(stillHeld(mail.id)));
      statements.push(mailRequestInsert(db, mail, { hooksBaseUrl: options.hooksBaseUrl, requestId: `evt_release_${mail.id}` }).onConflictDoNothing());
      result.released++;
    } else if (Date.parse(mail.created_at) + MAIL_HOLD_MS <= options.now) {
      statements.push(db.update(mails).set({ status: 'undeliverable' }).where(stillHeld(mail.id)));
      result.undeliverable++;
    }
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return result;
}
