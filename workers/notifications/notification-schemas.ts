import { z } from 'zod';
import type { NotificationWithMails } from './notification-repository';
import type { MailRow } from './schema';

export const listQuery = z.object({ orderId: z.string().min(1).max(128) });

/** One notification as `GET /notifications?orderId=` shows it. */
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
