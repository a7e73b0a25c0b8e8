import { drizzle } from 'drizzle-orm/d1';
import { Hono, type Context } from 'hono';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { requireRole } from '../../shared/http/identity';
import { decodeCursor, encodeCursor, invalidCursor } from '../../shared/http/cursor';
import { unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { NotificationsBindings } from './env';
import { NotificationRepository } from './notification-repository';
import { listQuery, toNotificationItem } from './notification-schemas';

/** The repository over the request's D1: each query a span of the request (traced-d1.ts). */
const repository = (c: Context<AppEnv<NotificationsBindings>>) => new NotificationRepository(drizzle(requestD1(c)));

/**
 * Reads for operators, tests and the demo. Who calls is what the gateway's service token says
 * (verified by createServiceApp before any route runs).
 */
export const notificationRoutes = new Hono<AppEnv<NotificationsBindings>>()
  // Counts for ops: notifications by kind, mails by status and priority.
  .get('/stats', requireRole('admin'), async (c) => c.json(await repository(c).stats(), 200, { 'cache-control': 'no-store' }))
  // An order's notifications: an admin sees any order's; a user only an order whose events name
  // them. Anyone else gets an empty list, the same answer as an order with no notifications, so
  // the endpoint does not tell which order ids exist. A payment event names the user as its
  // customer; one that does not (an operator's charge) shows the user nothing until an order event.
  .get('/', validate('query', listQuery), async (c) => {
    const identity = c.get('identity');
    if (!identity) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
    const { orderId, limit, cursor } = c.req.valid('query');
    const notifications = repository(c);
    // The caller's own (GET /api/notifications at the gateway), newest first, a page at a time.
    if (orderId === undefined) {
      const before = cursor ? decodeCursor(cursor) : undefined;
      if (before && (typeof before.createdAt !== 'string' || typeof before.id !== 'string')) throw invalidCursor();
      const rows = await notifications.listByUser(identity.userId, limit + 1, before as { createdAt: string; id: string } | undefined);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
      return c.json({ items: page.map(toNotificationItem), nextCursor }, 200, { 'cache-control': 'no-store' });
    }
    const allowed = identity.roles.includes('admin') || (await notifications.isOrderUser(orderId, identity.userId));
    const rows = allowed ? await notifications.listByOrder(orderId) : [];
    return c.json({ items: rows.map(toNotificationItem) }, 200, { 'cache-control': 'no-store' });
  });
