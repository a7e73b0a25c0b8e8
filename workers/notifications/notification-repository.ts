import { and, asc, count, desc, eq, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { MAIL_PRIORITIES, MAIL_STATUSES, mails, notifications, type MailRow, type NotificationRow } from './schema';

export interface NotificationWithMails extends NotificationRow {
  mails: MailRow[];
}

export interface NotificationStats {
  notifications: { total: number; byKind: Record<string, number> };
  mails: {
    total: number;
    byStatus: Record<MailRow['status'], number>;
    byPriority: Record<MailRow['priority'], Record<MailRow['status'], number>>;
  };
}

/** Reads of the notifications D1. The writes are batch statements (notification-writes.ts, mail-send.ts). */
export class NotificationRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  /** An order's notifications, oldest first (rowid breaks ties within one millisecond), with their mails. */
  async listByOrder(orderId: string): Promise<NotificationWithMails[]> {
    const rows = await this.db
      .select()
      .from(notifications)
      .where(eq(notifications.orderId, orderId))
      .orderBy(asc(notifications.createdAt), sql`rowid`);
    return this.withMails(rows);
  }

  /**
   * A user's own notifications, newest first (id breaks ties within one millisecond), `limit` of
   * them after `before` (the last of the previous page), with their mails.
   */
  async listByUser(userId: string, limit: number, before?: { createdAt: string; id: string }): Promise<NotificationWithMails[]> {
    const mine = eq(notifications.userId, userId);
    const older = before ? or(lt(notifications.createdAt, before.createdAt), and(eq(notifications.createdAt, before.createdAt), lt(notifications.id, before.id))) : undefined;
    const rows = await this.db
      .select()
      .from(notifications)
      .where(older ? and(mine, older) : mine)
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(limit);
    return this.withMails(rows);
  }

  private async withMails(rows: NotificationRow[]): Promise<NotificationWithMails[]> {
    if (rows.length === 0) return [];
    const mailRows = await this.db
      .select()
      .from(mails)
      .where(
        inArray(
          mails.notificationId,
          rows.map((row) => row.id),
        ),
      )
      .orderBy(asc(mails.createdAt), sql`rowid`);
    return rows.map((row) => ({ ...row, mails: mailRows.filter((mail) => mail.notificationId === row.id) }));
  }

  /** Whether `userId` is the user of any of the order's notifications (the owner check). */
  async isOrderUser(orderId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .select({ id: notifications.id })
      .from(notifications)
      .where(and(eq(notifications.orderId, orderId), isNotNull(notifications.userId), eq(notifications.userId, userId)))
      .limit(1)
      .get();
    return row !== undefined;
  }

  async stats(): Promise<NotificationStats> {
    const [kinds, mailCounts] = await this.db.batch([
      this.db.select({ kind: notifications.kind, n: count() }).from(notifications).groupBy(notifications.kind),
      this.db.select({ priority: mails.priority, status: mails.status, n: count() }).from(mails).groupBy(mails.priority, mails.status),
    ]);
    const zeroByStatus = () => Object.fromEntries(MAIL_STATUSES.map((status) => [status, 0])) as Record<MailRow['status'], number>;
    const stats: NotificationStats = {
      notifications: { total: 0, byKind: {} },
      mails: {
        total: 0,
        byStatus: zeroByStatus(),
        byPriority: Object.fromEntries(MAIL_PRIORITIES.map((priority) => [priority, zeroByStatus()])) as NotificationStats['mails']['byPriority'],
      },
    };
    for (const { kind, n } of kinds) {
      stats.notifications.byKind[kind] = n;
      stats.notifications.total += n;
    }
    for (const { priority, status, n } of mailCounts) {
      stats.mails.byPriority[priority][status] += n;
      stats.mails.byStatus[status] += n;
      stats.mails.total += n;
    }
    return stats;
  }
}
