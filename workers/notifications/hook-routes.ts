import { Hono } from 'hono';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { badRequest } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { deliveryHandler } from '../../shared/middleware/delivery-handler';
import type { NotificationsBindings } from './env';
import { planNotification } from './mail-plan';
import { releaseHeldMails } from './mail-release';
import { mailRequestedData, markSentStatement } from './mail-send';
import { MAIL_REQUESTED, notificationStatements } from './notification-writes';

/** QStash deliveries (through the gateway's /hooks routes), each verified and deduplicated by deliveryHandler. */
export const hookRoutes = new Hono<AppEnv<NotificationsBindings>>()
  // Order and payment events (topics order-events and payment-events).
  .post(
    '/notifications',
    deliveryHandler<NotificationsBindings>({
      consumer: 'notifications',
      handle(event, delivery, c) {
        const result = planNotification(event);
        if (result.action === 'reject') throw badRequest(result.reason);
        if (result.action === 'ignore') return { statements: [] };
        return {
          statements: notificationStatements(delivery.db, result.plan, {
            eventId: event.id,
            traceparent: event.traceparent ?? c.get('trace'),
            // deliveryHandler has refused the delivery already if this were missing.
            hooksBaseUrl: c.env.HOOKS_BASE_URL ?? '',
          }),
          afterCommit: async () => {
            // Held mails of this order whose user is now known (this event named them, or an
            // earlier one did while this one's mails were held) go out now. Run after every
            // commit, by either side, so a payment event and an order event committing at the
            // same moment still release; the scheduled sweep catches what a failure here leaves.
            const { orderId } = result.plan;
            try {
              const released = await releaseHeldMails(delivery.db, { orderId, hooksBaseUrl: c.env.HOOKS_BASE_URL ?? '', now: Date.now() });
              if (released.released > 0) delivery.log.info('held mails released', { orderId, ...released });
            } catch (error) {
              delivery.log.warn('held mails not released; the scheduled sweep retries', { orderId, error });
            }
            // The immediate publish attempt; the relay's alarm retries whatever this misses.
            kickOutbox(c.env, c.executionCtx, delivery.log);
          },
        };
      },
    }),
  )
  // Mail send requests (queues mail-transactional and mail-bulk).
  .post(
    '/mail',
    deliveryHandler<NotificationsBindings>({
      consumer: 'mail',
      handle(event, delivery) {
        if (event.type !== MAIL_REQUESTED) return { statements: [] };
        const data = mailRequestedData.safeParse(event.data);
        if (!data.success) throw badRequest('mail.requested data must be {mailId}.');
        const { mailId } = data.data;
        return {
          statements: [markSentStatement(delivery.db, mailId, delivery.retried + 1)],
          // The simulated send's trace in the logs (the UPDATE is a no-op if it was sent already).
          afterCommit: () => delivery.log.info('mail send simulated', { mailId, attempt: delivery.retried + 1 }),
        };
      },
    }),
  );
