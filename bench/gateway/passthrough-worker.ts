import { Hono } from 'hono';

/**
 * Benchmark baseline (a): the least a Hono gateway can do. One route, the prefix stripped, the
 * request handed to the catalog binding as is; no middleware, no header rewriting, no metrics.
 * The real gateway's req/s divided by this one's is the price of its middleware.
 */
interface Bindings {
  CATALOG: Fetcher;
}

const PREFIX = '/api/catalog';

const app = new Hono<{ Bindings: Bindings }>();

app.all(`${PREFIX}/*`, (c) => {
  const url = new URL(c.req.url);
  url.pathname = url.pathname.slice(PREFIX.length) || '/';
  return c.env.CATALOG.fetch(new Request(url, c.req.raw));
});

export default app;
