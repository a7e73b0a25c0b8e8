import { drizzle } from 'drizzle-orm/d1';
import { createLogger } from '../../shared/observability/logger';
import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { PaymentsBindings } from './env';
import { pruneUnusedPaymentMethods } from './payment-method-retention';
import { paymentsScheduled } from './retention';
import { paymentRoutes } from './payment-routes';

/**
 * The payments service: charges and refunds in its own D1, every write idempotent by key
 * (docs/architecture.md, decision 3) and committed with its event (payment.charged / declined / refunded)
 * in one batch; the OutboxRelay publishes the events to the payment-events topic. Reached only through a service binding (workers_dev = false); the
 * gateway maps `/api/payments/*` to `/payments/*` here.
 */
const app = createServiceApp<PaymentsBindings>({ service: 'payments', onComplete: recordServiceRequestOf, verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
}));

// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/_outbox', outboxOpsRoutes);
app.route('/payments', paymentRoutes);

/**
 * HTTP through the app. The cron trigger keeps the outbox moving (outboxHeartbeat) and deletes
 * card tokens no payment used (payment-method-retention.ts).
 */
export default {
  fetch: app.fetch,
  async scheduled(controller: ScheduledController, env: PaymentsBindings, ctx: ExecutionContext): Promise<void> {
    // The outbox heartbeat and the charge keys' retention (retention.ts).
    paymentsScheduled(controller, env, ctx);
    const log = createLogger({ service: 'payments', component: 'payment-method-retention' });
    try {
      const pruned = await pruneUnusedPaymentMethods(drizzle(env.DB), Date.now());
      if (pruned > 0) log.info('unused card tokens deleted', { pruned });
    } catch (error) {
      log.error('card token retention failed; the next run retries', { error });
    }
  },
};

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
