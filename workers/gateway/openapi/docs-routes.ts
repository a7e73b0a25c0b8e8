import { SwaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import { notFound } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { GatewayBindings } from '../env';
import { pagePolicy } from '../page-policy';

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

/** The only files the page loads, as @hono/swagger-ui names them (`<baseUrl>/swagger-ui-dist/<file>`). */
export const SWAGGER_UI_FILES = ['/docs/swagger-ui-dist/swagger-ui-bundle.js', '/docs/swagger-ui-dist/swagger-ui.css'] as const;

/**
 * The page: @hono/swagger-ui's markup (its files from `/docs`, not a CDN), in the same shell its
 * middleware renders. `validatorUrl: 'none'`: Swagger UI would otherwise show a badge fetched
 * from a validator on another host.
 */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>stratus API</title>
  </head>
  <body>
    ${SwaggerUI({ url: '/openapi.json', baseUrl: '/docs', persistAuthorization: false, validatorUrl: 'none' })}
  </body>
</html>
`;

/**
 * /docs shares its origin with /_ops, whose dashboard keeps the operator token in the tab's
 * sessionStorage: a script injected here could read it. So the page runs under the same policy
 * as the dashboard (page-policy.ts), with the one inline script @hono/swagger-ui writes (which
 * starts Swagger UI) allowed by its hash rather than by 'unsafe-inline'. Swagger UI styles
 * through the CSSOM: checked in Chromium (the page renders, "Try it out" runs) without a single
 * CSP violation.
 */
async function docsPolicy(page: string): Promise<string> {
  const inline = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
  const hashes = await Promise.all(
    inline.map(async (script) => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(script)));
      return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
    }),
  );
  return pagePolicy(hashes);
}

/** Hashed once per isolate: the page depends on code only. */
let policy: Promise<string> | undefined;

docsRoutes.get('/docs', async (c) => {
  c.set('routeLabel', '/docs');
  policy ??= docsPolicy(PAGE);
  return c.html(PAGE, 200, { 'content-security-policy': await policy });
});

/**
 * Swagger UI's two files, from the static assets (Workers static assets: `[assets]` in
 * wrangler.toml). Only these two: nothing else under public/docs is served from here.
 */
for (const file of SWAGGER_UI_FILES) {
  docsRoutes.get(file, async (c) => {
    c.set('routeLabel', '/docs/*');
    // Off Cloudflare (the gateway's app on another runtime) there is no assets binding: no files.
    if (!c.env.ASSETS) throw notFound(`No file ${c.req.path}: this gateway serves no static assets.`);
    const response = await c.env.ASSETS.fetch(c.req.raw);
    if (response.status === 404) throw notFound(`No file ${c.req.path}; \`npm install\` copies Swagger UI's files into workers/gateway/public/docs.`);
    return response;
  });
}
