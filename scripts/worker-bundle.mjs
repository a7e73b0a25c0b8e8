// Builds a worker exactly as `wrangler deploy` would (dry run) and describes it as Miniflare
// worker options, so tests and benchmarks run the very bundle that would be deployed, in workerd.
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import { copyGatewayAssets } from './gateway-assets.mjs';
import { wranglerCommand } from './wrangler-cli.mjs';
import { ROOT } from './workers.mjs';

/**
 * Bundles the worker of `configPath` into `<ROOT>/.wrangler/build/<name>/`; returns the bundle's
 * path, which wrangler names after the entry file (`main = "index.ts"` → `index.js`).
 */
export function bundleWorker(configPath, name) {
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const bundleName = basename(config.main ?? 'index.js').replace(/\.[cm]?[jt]sx?$/, '.js');
  const outdir = join(ROOT, '.wrangler', 'build', name);
  // --env= (empty): the top level, said explicitly, so wrangler does not warn that the file also
  // defines environments (staging, production) and none was named.
  const cli = wranglerCommand();
  execFileSync(cli.command, [...cli.args, 'deploy', '--dry-run', '--outdir', outdir, '-c', configPath, '--env='], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  return join(outdir, bundleName);
}

/**
 * Miniflare options for a worker: its bindings from its wrangler config, its code from the bundle.
 * `overrides` are merged on top (extra vars for a test, say).
 */
export function bundledWorkerOptions(configPath, name, overrides = {}) {
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  // The gateway's static assets include files copied from node_modules (uPlot, Swagger UI): present before Miniflare serves them.
  if (config.assets) copyGatewayAssets();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  return {
    ...workerOptions,
    name: config.name,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    modules: [{ type: 'ESModule', path: bundleWorker(configPath, name) }],
    ...overrides,
    // No span or log export unless the caller asks for it (local-suite.mjs does): a developer's
    // .dev.vars, which wrangler reads in, points the exporters at `npm run dev`'s receiver.
    bindings: { ...(workerOptions.bindings ?? {}), OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_QUERY_URL: '', ...(overrides.bindings ?? {}) },
  };
}
