// The gateway under test, each target in its own Miniflare (workerd directly: `wrangler dev`'s
// proxy caps throughput near 500 req/s, far below workerd), built from the real `wrangler deploy
// --dry-run` bundle, with the bench upstream (upstream-worker.ts) standing in for its services.
// Every Miniflare started here is tracked, so one call disposes them all, on error too.
import { Log, LogLevel, Miniflare } from 'miniflare';
import { join } from 'node:path';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { gatewayConfigPath, ROOT } from '../../scripts/workers.mjs';

export const ADMIN_TOKEN = 'bench-admin-token';

// Every var a developer's .dev.vars could set is pinned (wrangler reads .dev.vars into the
// options), so results never depend on it. `warn` keeps successful requests silent; 5xx answers
// are still logged (at `error`), see drainLogs.
const GATEWAY_VARS = {
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN,
  ALLOW_CHAOS: 'false',
  CORS_ORIGINS: '',
  METRICS_FLUSH_INTERVAL_MS: '1000', // the deployed default
  READY_TIMEOUT_MS: '2000',
  BREAKER_REPORT_INTERVAL_MS: '1000', // the deployed default: closed-state outcomes once a second
  CACHE_ENABLED: 'false', // every request must meet the upstream and its guard, not a cached answer
};

let bundles;

/**
 * Builds the gateway and the upstream once (a dry-run deploy takes seconds); targets reuse them.
 * Own build dirs (`bench-resilience-*`), so a test run or bench/gateway never races us for a file.
 */
export function buildBundles() {
  bundles ??= {
    gateway: bundledWorkerOptions(gatewayConfigPath(), 'bench-resilience-gateway', { bindings: GATEWAY_VARS }),
    upstream: bundledWorkerOptions(join(ROOT, 'bench', 'resilience', 'upstream.wrangler.toml'), 'bench-resilience-upstream'),
  };
  return bundles;
}

/**
 * Reads workerd's stdout and stderr and counts lines instead of printing them. The gateway logs
 * every 5xx answer at `error` (request-context.ts), so a circuit-open run writes one JSON line per
 * request; printing thousands a second through Node would load the same 2 cores we measure on.
 * The gateway still writes them (that cost is real and stays in the numbers); we only drop them.
 */
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
 * A gateway whose CATALOG and PAYMENTS are bench upstreams in `upstreamMode` (ok, fail, hang),
 * with `routePolicies` as its ROUTE_POLICIES var. Resolves once workerd listens; `url(path)`
 * gives absolute URLs on 127.0.0.1.
 */
export async function startGateway({ name, upstreamMode, routePolicies }) {
  const { gateway, upstream } = buildBundles();
  const asService = (service) => ({ ...upstream, name: service, bindings: { ...upstream.bindings, MODE: upstreamMode } });
  const logs = { lines: 0, sample: '' };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    logRequests: false, // otherwise every request is also reported to Node over the loopback
    cf: false, // no fetch of the `request.cf` blob from the internet: fully offline
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: drainLogs(logs),
    workers: [
      { ...gateway, bindings: { ...gateway.bindings, ROUTE_POLICIES: JSON.stringify(routePolicies) } },
      asService('stratus-catalog'),
      asService('stratus-payments'),
      // Bound by the gateway but never called here (no tokens; the catalog canary's weight is 0);
      // workerd refuses to start a worker whose binding names a service it does not have.
      asService('stratus-users'),
      asService('stratus-catalog-canary'),
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

/** Disposes every Miniflare still running (each is a workerd process). Safe to call twice. */
export async function disposeAll() {
  const running = [...started];
  started.clear();
  await Promise.allSettled(running.map((mf) => mf.dispose()));
}

/** One request with a deadline, for set-up and checks (never part of a measurement). */
export async function request(url, init = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body, json: () => JSON.parse(body) };
}

/** `/_ops/breakers` of a gateway: what the breaker Durable Object holds for each route. */
export async function breakerState(target) {
  const answer = await request(target.url('/_ops/breakers'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (answer.status !== 200) throw new Error(`${target.name}: GET /_ops/breakers answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  return answer.json();
}
