// The gateway under test, each target in its own Miniflare (workerd directly, never `wrangler
// dev`), built from the real `wrangler deploy --dry-run` bundle, with the bench upstream
// (upstream-worker.ts, DELAY_MS per target) standing in for every service it binds. Every
// Miniflare started here is tracked, so one call disposes them all, on error too.
import { Log, LogLevel, Miniflare } from 'miniflare';
import { join } from 'node:path';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { gatewayConfigPath, ROOT } from '../../scripts/workers.mjs';

export const ADMIN_TOKEN = 'bench-admin-token';

// Every var a developer's .dev.vars could set is pinned, so results never depend on it; each
// target then pins CACHE_ENABLED and ROUTE_POLICIES itself (startGateway).
const GATEWAY_VARS = {
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN,
  ALLOW_CHAOS: 'false',
  CORS_ORIGINS: '',
  METRICS_FLUSH_INTERVAL_MS: '1000', // the deployed default
  READY_TIMEOUT_MS: '2000',
  BREAKER_REPORT_INTERVAL_MS: '1000',
  ROUTE_WEIGHTS_REFRESH_MS: '1000',
  FEATURE_FLAGS: '',
  UPSTASH_REDIS_REST_URL: '', // rate limits in the RateLimiter Durable Objects, no L2 cache
  UPSTASH_REDIS_REST_TOKEN: '',
};

let bundles;

/** Builds the gateway and the upstream once, into their own build dirs (`bench-traffic-*`). */
export function buildBundles() {
  bundles ??= {
    gateway: bundledWorkerOptions(gatewayConfigPath(), 'bench-traffic-gateway', { bindings: GATEWAY_VARS }),
    upstream: bundledWorkerOptions(join(ROOT, 'bench', 'traffic', 'upstream.wrangler.toml'), 'bench-traffic-upstream'),
  };
  return bundles;
}

/** Counts workerd's output lines instead of printing them (see bench/resilience/targets.mjs). */
function drainLogs(counter) {
  return (stdout, stderr) => {
    for (const stream of [stdout, stderr]) {
      stream.on('data', (chunk) => {
        for (const byte of chunk) if (byte === 10) counter.lines++;
        if (!counter.sample) counter.sample = chunk.toString('utf8').split('\n')[0];
      });
    }
  };
}

const started = new Set();

/**
 * A gateway with `vars` (CACHE_ENABLED, ROUTE_POLICIES as an object) over bench upstreams that
 * answer after `delayMs`. Resolves once workerd listens; `url(path)` gives absolute URLs.
 */
export async function startGateway({ name, delayMs, cacheEnabled, routePolicies }) {
  const { gateway, upstream } = buildBundles();
  const asService = (service) => ({ ...upstream, name: service, bindings: { ...upstream.bindings, DELAY_MS: String(delayMs) } });
  const logs = { lines: 0, sample: '' };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    logRequests: false,
    cf: false,
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: drainLogs(logs),
    workers: [
      {
        ...gateway,
        bindings: { ...gateway.bindings, CACHE_ENABLED: cacheEnabled ? 'true' : 'false', ROUTE_POLICIES: JSON.stringify(routePolicies) },
      },
      asService('stratus-catalog'),
      // Bound by the gateway, never called here (the canary's weight is 0, no tokens, no payments).
      asService('stratus-catalog-canary'),
      asService('stratus-payments'),
      asService('stratus-users'),
    ],
  });
  started.add(mf);
  const base = await mf.ready;
  return {
    name,
    mf,
    logs,
    url: (path) => new URL(path, base).href,
    dispose: async () => {
      started.delete(mf);
      await mf.dispose();
    },
  };
}

/** Disposes every Miniflare still running. Safe to call twice. */
export async function disposeAll() {
  const running = [...started];
  started.clear();
  await Promise.allSettled(running.map((mf) => mf.dispose()));
}

/** One request with a deadline, for set-up and checks (never part of a measurement). */
export async function request(url, init = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body };
}

/** The gateway's /metrics series whose name starts with `prefix`, as { 'name{labels}': value }. */
export async function metrics(target, prefix) {
  const answer = await request(target.url('/metrics'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (answer.status !== 200) throw new Error(`${target.name}: GET /metrics answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const series = {};
  for (const line of answer.body.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const space = line.lastIndexOf(' ');
    series[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return series;
}
