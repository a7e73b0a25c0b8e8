import type { BatchItem } from 'drizzle-orm/batch';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { outboxInsert } from '../../shared/adapters/cloudflare/outbox-table';
import { cloudEvent, type CloudEventInit } from '../../shared/events/cloud-event';
import topology from '../../shared/events/topology.json';
import type { NotificationPlan } from './mail-plan';
import { mailQueueOf } from './mail-priority';
import { mails, notifications, type MailPriority } from './schema';

export const SOURCE = 'stratus/notifications';
export const MAIL_REQUESTED = 'mail.requested';

const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '')}`;

export interface WriteContext {
  /** The event acted on (its id is the notification's `event_id`). */
  eventId: string;
  /** The event's trace (else the delivery's), continued by the mail requests it causes. */
  traceparent?: CloudEventInit<unknown>['traceparent'];
  /** The gateway's public base URL: mail requests are delivered to its /hooks/mail. */
  hooksBaseUrl: string;
}

/** The `mail.requested` message that has a mail sent, on the queue of its priority. */
export function mailRequestInsert(
  db: DrizzleD1Database,
  mail: { id: string; priority: MailPriority },
  context: Pick<WriteContext, 'hooksBaseUrl' | 'traceparent'> & { requestId?: string },
) {
  const mailUrl = `${context.hooksBaseUrl.replace(/\/+$/, '')}${topology.consumers.mail}`;
  const request = cloudEvent({ id: context.requestId, type: MAIL_REQUESTED, source: SOURCE, subject: mail.id, data: { mailId: mail.id }, traceparent: context.traceparent });
  return outboxInsert(db, request, { kind: 'queue', queue: mailQueueOf(mail.priority), url: mailUrl });
}

/**
 * The statements that act on one event, for the SAME D1 batch as its inbox row: the notification,
 * its mails, and per addressed mail a `mail.requested` outbox message to the queue of the mail's
 * priority. All or nothing: a queued mail never exists without its send request, nor a request
 * without its mail. An event that does not name the user (a payment event without its customer)
 * leaves its mails `held`, with no send request: mail-release.ts queues them once the user is known.
 */
export function notificationStatements(db: DrizzleD1Database, plan: NotificationPlan, context: WriteContext): BatchItem<'sqlite'>[] {
  const notificationId = newId('ntf');
  const statements: BatchItem<'sqlite'>[] = [
    db.insert(notifications).values({ id: notificationId, eventId: context.eventId, kind: plan.kind, orderId: plan.orderId, userId: plan.userId }),
  ];
  for (const mail of plan.mails) {
    const mailId = newId('mail');
    const status = plan.userId === null ? 'held' : 'queued';
    statements.push(db.insert(mails).values({ id: mailId, notificationId, priority: mail.priority, template: mail.template, recipient: plan.userId, status }));
    if (status === 'queued') statements.push(mailRequestInsert(db, { id: mailId, priority: mail.priority }, { hooksBaseUrl: context.hooksBaseUrl, traceparent: context.traceparent }));
  }
  return statements;
}
