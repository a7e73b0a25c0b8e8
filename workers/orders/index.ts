import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { OrdersBindings } from './env';
import { liveRoutes } from './live-routes';
import { orderRoutes } from './order-routes';
import { ordersScheduled } from './orders-cron';
import { sagaRoutes } from './saga-routes';
import { summaryConsumer } from './summary-consumer';

/**
 * The orders service: places orders (each carried by its own OrderSaga Durable Object across
 * catalog and payments), shows them with their saga's timeline, and keeps the per-user order
 * list as a read model fed by order events. Reached only through the gateway's service binding,
 * which maps `/api/orders/*` to `/orders/*` and `/hooks/order-summaries` to itself.
 */
const app = createServiceApp<OrdersBindings>({ service: 'orders', onComplete: recordServiceRequestOf, verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
}));

// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/_outbox', outboxOpsRoutes);
app.route('/orders', liveRoutes);
app.route('/orders', orderRoutes);
app.route('/sagas', sagaRoutes);
app.post('/hooks/order-summaries', summaryConsumer);

/** HTTP through the app; the cron keeps the outbox moving, prunes the inbox and sweeps for lost sagas (orders-cron.ts). */
export default { fetch: app.fetch, scheduled: ordersScheduled };

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
export { OrderLive } from './order-live';
export { OrderSaga } from './order-saga';
