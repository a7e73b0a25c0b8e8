// The gateway's static assets that come from npm, not from git: Swagger UI's script and styles
// (swagger-ui-dist), copied into workers/gateway/public/docs/ (git-ignored) so `GET /docs` loads
// them from the gateway itself, never from a CDN: the suite works offline. Run by `npm install`
// (the `prepare` script), and again by everything that builds the gateway (dev, deploy, tests,
// bundles), so a checkout that pulled a new swagger-ui-dist without reinstalling still gets it.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** Where the gateway's `[assets]` directory keeps them; @hono/swagger-ui asks for `<baseUrl>/swagger-ui-dist/<file>`. */
export const SWAGGER_UI_ASSETS_DIR = join(ROOT, 'workers/gateway/public/docs/swagger-ui-dist');

/** Only what the page loads: the bundle (with its standalone preset inside) and the stylesheet. */
const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'];

const sameFile = (from, to) => {
  try {
    const [a, b] = [statSync(from), statSync(to)];
    return a.size === b.size && a.mtimeMs <= b.mtimeMs;
  } catch {
    return false;
  }
};

/** Copies what changed; cheap when nothing did (a stat per file). */
export function copyGatewayAssets() {
  const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  mkdirSync(SWAGGER_UI_ASSETS_DIR, { recursive: true });
  for (const file of FILES) {
    const from = join(source, file);
    const to = join(SWAGGER_UI_ASSETS_DIR, file);
    if (!sameFile(from, to)) copyFileSync(from, to);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) copyGatewayAssets();
