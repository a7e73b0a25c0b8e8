// The gateway under test, each target in its own Miniflare (workerd directly: `wrangler dev`'s
// proxy caps throughput near 500 req/s, far below workerd), built from the real `wrangler deploy
// --dry-run` bundle, with the bench upstream (upstream-worker.ts) standing in for every service
// it binds. Every Miniflare started here is tracked, so one call disposes them all, on error too.
import { Log, LogLevel, Miniflare } from 'miniflare';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { gatewayConfigPath, ROOT } from '../../scripts/workers.mjs';

export const ADMIN_TOKEN = 'bench-admin-token';

// Every var a developer's .dev.vars could set is pinned (wrangler reads .dev.vars into the
// options), so results never depend on it; a target then sets CACHE_ENABLED and ROUTE_POLICIES.
// `warn` keeps successful requests silent; 5xx answers are still logged, see drainLogs.
const GATEWAY_VARS = {
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN,
  ALLOW_CHAOS: 'false',
  CORS_ORIGINS: '',
  METRICS_FLUSH_INTERVAL_MS: '1000', // the deployed default
  READY_TIMEOUT_MS: '2000',
  BREAKER_REPORT_INTERVAL_MS: '1000', // the deployed default: closed-state outcomes once a second
  ROUTE_WEIGHTS_REFRESH_MS: '1000',
  FEATURE_FLAGS: '',
  UPSTASH_REDIS_REST_URL: '', // rate limits in the RateLimiter Durable Objects, no L2 cache
  UPSTASH_REDIS_REST_TOKEN: '',
  CACHE_ENABLED: 'false',
};

/** A service binding sent to an HTTP server outside workerd (workerd's external service: loopback HTTP). */
export const externalService = (url) => ({ external: { address: new URL(url).host, http: {} } });

/**
 * The services the gateway binds (its wrangler.toml, so a service added there is covered here
 * too); the bench upstream stands in for each under its name.
 */
const boundServices = (gateway) => [...new Set(Object.values(gateway.serviceBindings ?? {}).map((binding) => binding.name))];

let bundles;

/**
 * Builds the gateway and the upstream once (a dry-run deploy takes seconds); targets reuse them.
 * Own build dirs (`bench-<label>-*`), so a test run or another bench never races us for a file.
 * The gateway gets a service-token key made for the run (the stand-ins do not verify tokens).
 */
export async function buildBundles(label) {
  if (!bundles) {
    const { privateJwk } = await generateSigningKeyPair(`bench-${label}`);
    const vars = { ...GATEWAY_VARS, SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(privateJwk) };
    bundles = {
      vars,
      gateway: bundledWorkerOptions(gatewayConfigPath(), `bench-${label}-gateway`, { bindings: vars }),
      upstream: bundledWorkerOptions(join(ROOT, 'bench', 'lib', 'upstream.wrangler.toml'), `bench-${label}-upstream`),
    };
  }
  return bundles;
}

/**
 * Reads workerd's stdout and stderr and counts lines instead of printing them. A circuit-open run
 * logs one line per refused request (request-context.ts); printing thousands a second through Node
 * would load the same 2 cores we measure on. The gateway still writes them (that cost stays in the
 * numbers); we only drop them.
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
 * A gateway with `vars` (e.g. CACHE_ENABLED) and `routePolicies` as its ROUTE_POLICIES, over bench
 * upstreams with `upstream` vars (MODE: ok, fail or hang; DELAY_MS). `externalServices` sends a
 * binding to an HTTP server outside workerd instead ({ CATALOG: 'http://127.0.0.1:port' }: workerd's
 * external service, so the call leaves over loopback HTTP). Resolves once workerd listens;
 * `url(path)` gives absolute URLs on 127.0.0.1. Call buildBundles first.
 */
export async function startGateway({ name, upstream: upstreamVars = {}, vars = {}, routePolicies = {}, externalServices = {}, worker }) {
  if (!bundles) throw new Error('buildBundles() first');
  const { upstream } = bundles;
  // Another worker with the gateway's bindings and vars (bench/ladder), or the gateway itself.
  const gateway = worker ?? bundles.gateway;
  const logs = { lines: 0, sample: '' };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    logRequests: false, // otherwise every request is also reported to Node over the loopback
    cf: false, // no fetch of the `request.cf` blob from the internet: fully offline
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: drainLogs(logs),
    workers: [
      {
        ...gateway,
        bindings: { ...gateway.bindings, ...vars, ROUTE_POLICIES: JSON.stringify(routePolicies) },
        serviceBindings: {
          ...gateway.serviceBindings,
          ...Object.fromEntries(Object.entries(externalServices).map(([binding, url]) => [binding, externalService(url)])),
        },
      },
      // Services a target never calls still need a worker: workerd refuses a binding to a missing one.
      ...boundServices(gateway).map((service) => ({ ...upstream, name: service, bindings: { ...upstream.bindings, ...upstreamVars } })),
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

/**
 * Miniflare options for a bench worker that runs with the gateway's own bindings (its Durable
 * Objects, services and vars), built from `entry` instead of the gateway's index.ts: the gateway's
 * wrangler.toml with its `main` replaced (and no static assets), written under bench/.out.
 */
export function gatewayLikeWorker(entry, label) {
  if (!bundles) throw new Error('buildBundles() first');
  const text = readFileSync(gatewayConfigPath(), 'utf8')
    .replace(/^name = .*$/m, `name = "bench-${label}"`)
    .replace(/^main = .*$/m, `main = ${JSON.stringify(entry)}`)
    .replace(/^\[assets\][\s\S]*?(?=^\[)/m, '');
  const dir = join(ROOT, 'bench', '.out');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, `${label}.wrangler.toml`);
  writeFileSync(configPath, text);
  return bundledWorkerOptions(configPath, `bench-${label}`, { bindings: bundles.vars });
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

const asOperator = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

/** `/_ops/breakers` of a gateway: what the breaker Durable Object holds for each route. */
export async function breakerState(target) {
  const answer = await request(target.url('/_ops/breakers'), asOperator);
  if (answer.status !== 200) throw new Error(`${target.name}: GET /_ops/breakers answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  return answer.json();
}

/** The gateway's /metrics series whose name starts with `prefix`, as { 'name{labels}': value }. */
export async function metrics(target, prefix) {
  const answer = await request(target.url('/metrics'), asOperator);
  if (answer.status !== 200) throw new Error(`${target.name}: GET /metrics answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const series = {};
  for (const line of answer.body.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const space = line.lastIndexOf(' ');
    series[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return series;
}
