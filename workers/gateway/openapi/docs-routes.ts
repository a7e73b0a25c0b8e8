import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import { notFound } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { GatewayBindings } from '../env';

/**
 * `GET /openapi.json` (the merged document, document.ts) and `GET /docs` (Swagger UI). The UI's
 * script and stylesheet are swagger-ui-dist's, copied into the gateway's static assets
 * (scripts/gateway-assets.mjs) and served from here, so the page needs no CDN: it works offline.
 */
export const docsRoutes = new Hono<AppEnv<GatewayBindings>>();

docsRoutes.get('/openapi.json', async (c) => {
  c.set('routeLabel', '/openapi.json');
  // Imported on first use: the bundler then runs the descriptions and the generator only when the
  // document is asked for, not in every isolate's start-up on the request path.
  const { openApiDocument } = await import('./document');
  // The document changes only with a deploy: a short public cache is safe.
  return c.json(openApiDocument(), 200, { 'cache-control': 'public, max-age=300' });
});

// @hono/swagger-ui loads `<baseUrl>/swagger-ui-dist/swagger-ui-bundle.js` and `.../swagger-ui.css`.
docsRoutes.get(
  '/docs',
  async (c, next) => {
    c.set('routeLabel', '/docs');
    await next();
  },
  swaggerUI({ url: '/openapi.json', baseUrl: '/docs', title: 'stratus API', persistAuthorization: false }),
);

/** Swagger UI's files, from the static assets (Workers static assets: `[assets]` in wrangler.toml). */
docsRoutes.get('/docs/swagger-ui-dist/*', async (c) => {
  c.set('routeLabel', '/docs/*');
  // Off Cloudflare (the gateway's app on another runtime) there is no assets binding: no files.
  if (!c.env.ASSETS) throw notFound(`No file ${c.req.path}: this gateway serves no static assets.`);
  const response = await c.env.ASSETS.fetch(c.req.raw);
  if (response.status === 404) throw notFound(`No file ${c.req.path}; \`npm install\` copies Swagger UI's files into workers/gateway/public/docs.`);
  return response;
});
