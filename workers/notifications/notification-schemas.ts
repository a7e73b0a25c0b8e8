import { z } from 'zod';
import type { NotificationWithMails } from './notification-repository';
import type { MailRow } from './schema';

/**
 * `?orderId=`: one order's notifications, oldest first (an admin's any, a user's only their own);
 * without it the caller's own, newest first, `limit` (at most 100) at a time from `cursor`.
 */
export const listQuery = z.object({
  orderId: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

/** One notification as `GET /notifications` shows it. */
export interface NotificationItem {
  id: string;
  kind: string;
  orderId: string;
  createdAt: string;
  mails: { priority: MailRow['priority']; template: string; status: MailRow['status'] }[];
}

export const toNotificationItem = (row: NotificationWithMails): NotificationItem => ({
  id: row.id,
  kind: row.kind,
  orderId: row.orderId,
  createdAt: row.createdAt,
  mails: row.mails.map((mail) => ({ priority: mail.priority, template: mail.template, status: mail.status })),
});
