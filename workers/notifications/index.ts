import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import { deliveryChaos } from './delivery-chaos';
import type { NotificationsBindings } from './env';
import { hookRoutes } from './hook-routes';
import { notificationsScheduled } from './retention';
import { notificationRoutes } from './notification-routes';

/**
 * The notifications service: a consumer of the order and payment events (QStash topics
 * `order-events`, `payment-events`) that records a notification per event and sends its mails
 * through two QStash queues by priority (mail-priority.ts). Mail sending is simulated: a mail is
 * recorded in D1 and marked sent once its send request is delivered to /hooks/mail. Reached only
 * through the gateway (workers_dev = false): QStash deliveries arrive via its /hooks routes.
 */
const app = createServiceApp<NotificationsBindings>({ service: 'notifications', verifyServiceToken: true });
// Chaos stands in for the mail provider failing, among other things. On a delivery it must be a
// 5xx, so QStash retries it (delivery-chaos.ts).
addChaos(app, (c) => {
  const source = durableChaosSource(c.env);
  return c.req.path.startsWith('/hooks/') ? deliveryChaos(source) : source;
});

addHealthRoutes(app, (c) => ({
  db: async () => {
    await c.env.DB.prepare('SELECT 1').first();
  },
}));

// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
app.route('/_outbox', outboxOpsRoutes);
app.route('/hooks', hookRoutes);
app.route('/notifications', notificationRoutes);

/** HTTP through the app; the cron trigger keeps the outbox moving and prunes (retention.ts). */
export default { fetch: app.fetch, scheduled: notificationsScheduled };

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
