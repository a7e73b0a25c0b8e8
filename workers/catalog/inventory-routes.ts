import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { requireCaller } from '../../shared/http/identity';
import { idempotencyKeyHeader, REPLAYED_HEADER } from '../../shared/http/idempotency-key';
import type { AppEnv } from '../../shared/middleware/app-env';
import { ORDERS_SERVICE_TOKEN_ISSUER } from '../../shared/security/service-token';
import { validate } from '../../shared/validation/validate';
import type { CatalogBindings } from './env';
import { InventoryRepository } from './inventory-repository';
import { quoteInput, reservationIdParam, reserveInput } from './inventory-schemas';
import { priceItems } from './quote';
import { commit, release, reserve } from './reservations';

/** The repository over the request's D1: each batch a span of the request (traced-d1.ts). */
const repository = (c: Context<AppEnv<CatalogBindings>>) => new InventoryRepository(drizzle(requestD1(c)));

/**
 * Inventory for the order saga (workers/orders), which calls with its own service token
 * (issuer stratus-orders); an operator (admin role, through the gateway) may call it by hand.
 * Commit and release need no Idempotency-Key: the reservation id names the effect, and the
 * state machine answers a repeat with the first answer (reservations.ts). A key sent anyway is
 * ignored.
 */
export const inventoryRoutes = new Hono<AppEnv<CatalogBindings>>()
  .use(requireCaller({ issuers: [ORDERS_SERVICE_TOKEN_ISSUER], role: 'admin' }))
  .post('/quote', validate('json', quoteInput), async (c) => {
    const { items } = c.req.valid('json');
    const products = await repository(c).products(items.map((item) => item.productId));
    return c.json(priceItems(items, products));
  })
  .post('/reservations', validate('header', idempotencyKeyHeader), validate('json', reserveInput), async (c) => {
    const { answer, replayed } = await reserve(repository(c), c.req.valid('header')['idempotency-key'], c.req.valid('json'));
    if (!replayed) c.get('log').info('stock reserved', { reservationId: answer.reservationId, items: answer.items.length });
    return c.json(answer, 201, replayed ? { [REPLAYED_HEADER]: 'true' } : {});
  })
  .post('/reservations/:id/commit', validate('param', reservationIdParam), async (c) => {
    return c.json(await commit(repository(c), c.req.valid('param').id));
  })
  .post('/reservations/:id/release', validate('param', reservationIdParam), async (c) => {
    const { answer, releasedNow } = await release(repository(c), c.req.valid('param').id);
    if (releasedNow) c.get('log').info('reservation released', { reservationId: answer.reservationId });
    return c.json(answer);
  });
