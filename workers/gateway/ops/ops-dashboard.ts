import { Hono, type Context } from 'hono';
import { notFound } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { GatewayBindings } from '../env';
import { pagePolicy } from '../page-policy';

/**
 * `GET /_ops`: the ops dashboard's page, and `GET /_ops/ui/<file>`: its scripts and styles (and
 * uPlot's, copied by scripts/gateway-assets.mjs), from the gateway's static assets
 * (workers/gateway/public/ops/).
 *
 * Served without the admin token, unlike every other path under /_ops: the page and its files
 * hold no data, only code that anyone could read in the repository. Every number the page shows
 * comes from the /_ops JSON endpoints, which answer 401 without `Authorization: Bearer
 * <ADMIN_TOKEN>`; the page asks for the token in a form and sends it as that header, never in a
 * URL (where it would land in logs and history).
 */
export const dashboardRoutes = new Hono<AppEnv<GatewayBindings>>();

/** The page may run only its own files and talk only to its own origin (page-policy.ts). */
const PAGE_POLICY = pagePolicy();

/** A file name under public/ops/, one folder deep at most (vendor/): nothing that climbs out. */
const FILE_PATH = /^(?:[A-Za-z0-9_-]+\/)?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)+$/;

async function fromAssets(c: Context<AppEnv<GatewayBindings>>, assetPath: string): Promise<Response> {
  const response = await c.env.ASSETS?.fetch(new Request(new URL(assetPath, c.req.url), { headers: c.req.raw.headers }));
  if (!response || response.status === 404) {
    throw notFound(`No dashboard file ${c.req.path}; run \`npm install\` (it copies uPlot into workers/gateway/public/ops/vendor).`);
  }
  // A copy: the assets' response headers are immutable, and the gateway's middleware adds its own.
  const copy = new Response(response.body, response);
  // On every file, not only the page: a document opened from any of them (an .html or .svg
  // reached by its own URL) runs on this origin, where the tab keeps the operator token.
  copy.headers.set('content-security-policy', PAGE_POLICY);
  return copy;
}

dashboardRoutes.get('/', async (c) => {
  c.set('routeLabel', '/_ops');
  // The page's folder: static assets answer `/ops/` with its index.html.
  const page = await fromAssets(c, '/ops/');
  page.headers.set('cache-control', 'no-cache');
  return page;
});

dashboardRoutes.get('/ui/*', async (c) => {
  c.set('routeLabel', '/_ops/ui/*');
  const file = c.req.path.slice('/_ops/ui/'.length);
  // The page itself is `/_ops` alone: its HTML is not a file of its own under /ui/.
  if (!FILE_PATH.test(file) || /\.html?$/i.test(file)) throw notFound(`No dashboard file ${c.req.path}.`);
  return fromAssets(c, `/ops/${file}`);
});
