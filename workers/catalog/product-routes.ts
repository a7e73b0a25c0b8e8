import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { decodeCursor, encodeCursor, invalidCursor } from '../../shared/http/cursor';
import { requireRole } from '../../shared/http/identity';
import { publicPath } from '../../shared/http/public-path';
import { badRequest, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { CatalogBindings } from './env';
import { ProductRepository } from './product-repository';
import { ViewCounter } from './view-counter';
import { listQuery, popularQuery, productIdParam, productInput, productPatch, toProduct } from './product-schemas';

/** The repository over the request's D1: each query and batch a span of the request (traced-d1.ts). */
const repository = (c: Context<AppEnv<CatalogBindings>>) => new ProductRepository(drizzle(requestD1(c)));

/** One view counter per isolate; `VIEW_FLUSH_INTERVAL_MS` (default 1000) is how often it writes. */
let counter: ViewCounter | undefined;
const viewCounter = (env: CatalogBindings) => {
  const configured = Number(env.VIEW_FLUSH_INTERVAL_MS ?? 1_000);
  counter ??= new ViewCounter(Number.isFinite(configured) && configured >= 0 ? configured : 1_000);
  return counter;
};

const afterIdFrom = (cursor: string | undefined): string | undefined => {
  // An empty cursor is the first page, so `cursor=${next ?? ''}` works for clients.
  if (!cursor) return undefined;
  const { after } = decodeCursor(cursor);
  if (typeof after !== 'string') throw invalidCursor();
  return after;
};

export const productRoutes = new Hono<AppEnv<CatalogBindings>>()
  .get('/', validate('query', listQuery), async (c) => {
    const { limit, cursor, q } = c.req.valid('query');
    const page = await repository(c).list({ limit, afterId: afterIdFrom(cursor), q: q || undefined });
    return c.json({
      items: page.rows.map(toProduct),
      nextCursor: page.nextAfterId ? encodeCursor({ after: page.nextAfterId }) : null,
    });
  })
  // Before '/:id', which would otherwise take "popular" for an id. Same shape as the list, so a
  // client reads the gateway's degraded answer (this list, cached) like any first page.
  .get('/popular', validate('query', popularQuery), async (c) => {
    const rows = await repository(c).popular(c.req.valid('query').limit);
    return c.json({ items: rows.map(toProduct), nextCursor: null });
  })
  .get('/:id', validate('param', productIdParam), async (c) => {
    const repo = repository(c);
    const row = await repo.get(c.req.valid('param').id);
    if (!row) throw notFound(`No product with id ${c.req.valid('param').id}.`);
    // Counted after the answer and in batches (view-counter.ts): a read never waits on a write.
    // Untraced: the flush is shared by every view since the last one and ends after this request.
    const flush = viewCounter(c.env).count(row.id, drizzle(c.env.DB));
    if (flush) c.executionCtx.waitUntil(flush.catch((error: unknown) => c.get('log').warn('views not counted', { error })));
    return c.json(toProduct(row));
  })
  .post('/', requireRole('admin'), validate('json', productInput), async (c) => {
    const id = `prod_${crypto.randomUUID().replace(/-/g, '')}`;
    const row = await repository(c).create(id, c.req.valid('json'));
    c.get('log').info('product created', { productId: id });
    return c.json(toProduct(row), 201, { location: publicPath(c, `${c.req.path.replace(/\/$/, '')}/${id}`) });
  })
  .put('/:id', requireRole('admin'), validate('param', productIdParam), validate('json', productPatch), async (c) => {
    const { id } = c.req.valid('param');
    const row = await repository(c).update(id, c.req.valid('json'));
    if (!row) throw notFound(`No product with id ${id}.`);
    c.get('log').info('product updated', { productId: id });
    return c.json(toProduct(row));
  });
