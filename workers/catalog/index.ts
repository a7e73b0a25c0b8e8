import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { addChaos } from '../../shared/middleware/chaos';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import type { CatalogBindings } from './env';
import { productRoutes } from './product-routes';

/**
 * The catalog service: products in its own D1. Reached only through the gateway's service
 * binding (workers_dev = false), which strips `/api/catalog` before the request arrives here.
 */
const app = createServiceApp<CatalogBindings>({ service: 'catalog', verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: async () => {
    await c.env.DB.prepare('SELECT 1').first();
  },
}));

app.route('/products', productRoutes);

export default app;

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
