import { drizzle } from 'drizzle-orm/d1';
import { createLogger } from '../../shared/observability/logger';
import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import { deliveryChaos } from './delivery-chaos';
import type { NotificationsBindings } from './env';
import { hookRoutes } from './hook-routes';
import { releaseHeldMails } from './mail-release';
import { notificationsScheduled } from './retention';
import { notificationRoutes } from './notification-routes';

/**
 * The notifications service: a consumer of the order and payment events (QStash topics
 * `order-events`, `payment-events`) that records a notification per event and sends its mails
 * through two QStash queues by priority (mail-priority.ts). Mail sending is simulated: a mail is
 * recorded in D1 and marked sent once its send request is delivered to /hooks/mail. Reached only
 * through the gateway (workers_dev = false): QStash deliveries arrive via its /hooks routes.
 */
const app = createServiceApp<NotificationsBindings>({ service: 'notifications', onComplete: recordServiceRequestOf, verifyServiceToken: true });
// Chaos stands in for the mail provider failing, among other things. On a delivery it must be a
// 5xx, so QStash retries it (delivery-chaos.ts).
addChaos(app, (c) => {
  const source = durableChaosSource(c.env);
  return c.req.path.startsWith('/hooks/') ? deliveryChaos(source) : source;
});

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
}));

// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/_outbox', outboxOpsRoutes);
app.route('/hooks', hookRoutes);
app.route('/notifications', notificationRoutes);

/**
 * HTTP through the app. The cron trigger (a minute) keeps the outbox moving (outboxHeartbeat) and
 * prunes what is past its retention (retention.ts) and sweeps held mails: released once their user is known, given up past MAIL_HOLD_MS (mail-release.ts).
 */
export default {
  fetch: app.fetch,
  async scheduled(controller: ScheduledController, env: NotificationsBindings, ctx: ExecutionContext): Promise<void> {
    const log = createLogger({ service: 'notifications', component: 'held-mail-sweep' });
    try {
      const swept = await releaseHeldMails(drizzle(env.DB), { hooksBaseUrl: env.HOOKS_BASE_URL ?? '', now: Date.now() });
      if (swept.released + swept.undeliverable > 0) log.info('held mails swept', { ...swept });
      if (swept.undeliverable > 0) log.warn('mails given up: no recipient known within the hold', { undeliverable: swept.undeliverable });
    } catch (error) {
      log.error('held-mail sweep failed; the next minute retries', { error });
    }
    // The outbox heartbeat and retention (retention.ts).
    notificationsScheduled(controller, env, ctx);
  },
};

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
