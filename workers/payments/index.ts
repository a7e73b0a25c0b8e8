import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { PaymentsBindings } from './env';
import { paymentsScheduled } from './retention';
import { paymentRoutes } from './payment-routes';

/**
 * The payments service: charges and refunds in its own D1, every write idempotent by key
 * (DESIGN.md decision 3) and committed with its event (payment.charged / declined / refunded)
 * in one batch; the OutboxRelay publishes the events to the payment-events topic. Reached only through a service binding (workers_dev = false); the
 * gateway maps `/api/payments/*` to `/payments/*` here.
 */
const app = createServiceApp<PaymentsBindings>({ service: 'payments', verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: async () => {
    await c.env.DB.prepare('SELECT 1').first();
  },
}));

// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
app.route('/_outbox', outboxOpsRoutes);
app.route('/payments', paymentRoutes);

/** HTTP through the app; the cron trigger keeps the outbox moving and prunes old keys (retention.ts). */
export default { fetch: app.fetch, scheduled: paymentsScheduled };

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
