import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { MiddlewareHandler } from 'hono';
import type { CatalogBindings } from './env';
import { inventoryRoutes } from './inventory-routes';
import { orderEventsConsumer } from './order-events-consumer';
import { productRoutes } from './product-routes';
import { catalogScheduled } from './retention';

/** A version name as it may appear in a header (the gateway's version names are the same tokens). */
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Every response, errors included, says which version of the catalog answered: `v1`, or what
 * `SERVICE_VERSION` says (`v2` for workers/catalog-canary, the same code deployed a second time).
 */
const serviceVersion: MiddlewareHandler = async (c, next) => {
  await next();
  const version = (c.env as CatalogBindings | undefined)?.SERVICE_VERSION;
  c.header('x-service-version', version && VERSION_NAME.test(version) ? version : 'v1');
};

/**
 * The catalog service: products and their stock in its own D1; the order saga reserves,
 * commits and releases stock through /inventory. Reached only through the gateway's service
 * binding (workers_dev = false), which strips `/api/catalog` before the request arrives here.
 */
const app = createServiceApp<CatalogBindings>({ service: 'catalog', onComplete: recordServiceRequestOf, verifyServiceToken: true, early: [serviceVersion] });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
}));

// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/products', productRoutes);
app.route('/inventory', inventoryRoutes);
// QStash deliveries of the order-events topic, through the gateway's /hooks route.
app.post('/hooks/catalog', orderEventsConsumer);

/** HTTP through the app; the cron trigger prunes what grows past its retention (retention.ts). */
export default { fetch: app.fetch, scheduled: catalogScheduled };

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
