// The gateway's static assets that come from npm, not from git: uPlot's script and stylesheet for
// the ops dashboard (workers/gateway/public/ops/vendor/) and Swagger UI's for the API docs
// (workers/gateway/public/docs/swagger-ui-dist/), both git-ignored, so `GET /_ops` and `GET /docs`
// load them from the gateway itself, never from a CDN: the suite works offline. Copied rather than
// bundled: they are browser files served as they are by Workers static assets (`[assets]` in
// wrangler.toml), and the worker's own bundle stays free of browser code. Run by `npm install`
// (the `prepare` script), and again by everything that builds the gateway (dev, deploy, tests,
// bundles), so a checkout that pulled a newer package without reinstalling still serves it.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** Each package's files the gateway serves, and the folder under the assets directory they go to. */
const COPIES = [
  { packageName: 'uplot', from: 'dist', files: ['uPlot.esm.js', 'uPlot.min.css'], to: 'workers/gateway/public/ops/vendor' },
  // @hono/swagger-ui asks for `<baseUrl>/swagger-ui-dist/<file>`, with baseUrl `/docs`.
  { packageName: 'swagger-ui-dist', from: '', files: ['swagger-ui-bundle.js', 'swagger-ui.css'], to: 'workers/gateway/public/docs/swagger-ui-dist' },
];

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
  const require = createRequire(import.meta.url);
  for (const { packageName, from, files, to } of COPIES) {
    const source = join(dirname(require.resolve(`${packageName}/package.json`)), from);
    const target = join(ROOT, to);
    mkdirSync(target, { recursive: true });
    for (const file of files) {
      if (!sameFile(join(source, file), join(target, file))) copyFileSync(join(source, file), join(target, file));
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) copyGatewayAssets();
