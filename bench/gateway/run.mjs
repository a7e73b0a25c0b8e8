#!/usr/bin/env node
// `npm run bench`: what the gateway costs. Four targets serve GET of the product list (or `ok`),
// each in its own Miniflare (workerd, no `wrangler dev` proxy in front: that proxy caps out far
// below workerd), built from the real `wrangler deploy --dry-run` bundles and configs, loaded one
// after another by autocannon on 127.0.0.1. Prints a table and rewrites the `## Gateway overhead`
// section of bench/RESULTS.md.
import autocannon from 'autocannon';
import { importJWK, SignJWT } from 'jose';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { unstable_splitSqlQuery } from 'wrangler';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { gatewayConfigPath, ROOT } from '../../scripts/workers.mjs';
import { writeSection } from '../lib/results-file.mjs';

const HERE = join(ROOT, 'bench', 'gateway');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'gateway.json'); // git-ignored, for digging into a run

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
if (!(DURATION_S > 0)) throw new Error(`BENCH_DURATION_S must be a positive number of seconds, got ${process.env.BENCH_DURATION_S}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!(Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
const WARMUP_S = 2; // JIT, isolate start-up and SQLite page cache, so the measured run starts hot
const CONNECTIONS = 10; // enough to keep a 2-core machine busy without measuring queueing alone

// Every var a developer's .dev.vars could set is pinned, so results never depend on it.
// Logging at `warn` keeps the happy path silent in all targets alike: stdout is not what we measure.
const GATEWAY_VARS = {
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN: 'bench-admin-token',
  ALLOW_CHAOS: 'false',
  CORS_ORIGINS: '',
  METRICS_FLUSH_INTERVAL_MS: '1000', // the deployed default: one Durable Object call a second
  BREAKER_REPORT_INTERVAL_MS: '1000', // the deployed default
  // The route table's own policies, but for the rate limit: every anonymous load-generator request
  // would share one key and be refused after 100. Its cost is measured apart (bench/traffic).
  ROUTE_POLICIES: JSON.stringify({ catalog: { rateLimit: false } }),
  CACHE_ENABLED: 'false', // the cost of the path to the service, not of a cache hit
};

// Services accept only calls carrying a gateway-signed service token. The gateway signs one per
// call (part of what (b) costs); the baselines (a) and (c) have no gateway, so the load generator
// sends a token it signed before each load (tokens live 60 s, a load at most a few seconds).
const serviceTokenKeys = await generateSigningKeyPair('bench-service-token');
const signingKey = await importJWK(serviceTokenKeys.privateJwk, 'ES256');
GATEWAY_VARS.SERVICE_TOKEN_PRIVATE_JWK = JSON.stringify(serviceTokenKeys.privateJwk);
const serviceTokenFor = (service) =>
  new SignJWT({ roles: [], rid: 'bench' })
    .setProtectedHeader({ alg: 'ES256', kid: serviceTokenKeys.privateJwk.kid })
    .setIssuer('stratus-gateway')
    .setAudience(service)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(signingKey);
const CATALOG_VARS = { LOG_LEVEL: 'warn', SERVICE_TOKEN_PUBLIC_JWKS: JSON.stringify([serviceTokenKeys.publicJwk]) };
const CATALOG_NAME = 'stratus-catalog';

// Taken before we add any load: anything else busy on the machine skews every number, so say so.
const LOAD_AT_START = os.loadavg()[0];
if (LOAD_AT_START > os.cpus().length / 2) {
  console.warn(`note: 1-min load average is ${LOAD_AT_START.toFixed(2)} before the run; if other work is busy, results will be noisy`);
}

// Build each worker once (a dry-run deploy takes seconds); the options are reused per target.
// Own build dirs (`bench-*`), so a test run bundling at the same time never races us for a file.
console.log('bundling workers with `wrangler deploy --dry-run`…');
const catalog = bundledWorkerOptions(join(ROOT, 'workers/catalog/wrangler.toml'), 'bench-catalog', { bindings: CATALOG_VARS });
const gateway = bundledWorkerOptions(gatewayConfigPath(), 'bench-gateway', { bindings: GATEWAY_VARS });
const passthrough = bundledWorkerOptions(join(HERE, 'passthrough.wrangler.toml'), 'bench-passthrough');
const ok = bundledWorkerOptions(join(HERE, 'ok.wrangler.toml'), 'bench-ok');
// The gateway also binds PAYMENTS. No request here reaches it, but workerd refuses to start a
// worker whose binding names a service it does not have, so the `ok` worker stands in for it.
const paymentsStandIn = { ...ok, name: 'stratus-payments' };
// Likewise USERS (no request here carries a token) and CATALOG_CANARY (the canary's weight is 0).
const otherStandIns = ['stratus-users', 'stratus-catalog-canary'].map((name) => ({ ...ok, name }));

const TARGETS = [
  { key: 'a', name: 'bare Hono pass-through → catalog', path: '/api/catalog/products', workers: [passthrough, catalog] },
  { key: 'b', name: 'gateway (all middleware) → catalog', path: '/api/catalog/products', workers: [gateway, catalog, paymentsStandIn, ...otherStandIns] },
  { key: 'c', name: 'catalog direct', path: '/products', workers: [catalog] },
  { key: 'd', name: '`ok` worker (ceiling)', path: '/', workers: [ok] },
];

/** Each statement of a .sql file, split as `wrangler d1 execute --file` splits it. */
const statements = (file) => unstable_splitSqlQuery(readFileSync(file, 'utf8'));

/** The catalog's D1 as `npm run dev` prepares it: every migration in order, then the demo seed. */
async function prepareCatalog(mf) {
  const db = await mf.getD1Database('DB', CATALOG_NAME);
  const dir = join(ROOT, 'migrations', 'catalog');
  // drizzle-kit zero-pads migration numbers, so name order is apply order.
  const files = readdirSync(dir).filter((name) => name.endsWith('.sql')).sort().map((name) => join(dir, name));
  for (const file of [...files, join(ROOT, 'scripts', 'seed', 'catalog.sql')]) {
    await db.batch(statements(file).map((sql) => db.prepare(sql)));
  }
}

/** One request before any load: a target answering 404 or an empty list would bench nothing useful. */
async function checkTarget(url, target) {
  const response = await fetch(url, { headers: { 'x-stratus-service-token': await serviceTokenFor('catalog') } });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${target.name}: GET ${target.path} answered ${response.status}: ${body.slice(0, 300)}`);
  if (target.key === 'd') return 0;
  const items = JSON.parse(body).items;
  if (!Array.isArray(items) || items.length === 0) throw new Error(`${target.name}: the product list is empty; was the seed applied?`);
  return items.length;
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** Runs autocannon with a fresh service token (the gateway ignores it and signs its own). */
async function load(url, durationS, onLatency) {
  const headers = { 'x-stratus-service-token': await serviceTokenFor('catalog') };
  const instance = autocannon({ url, connections: CONNECTIONS, duration: durationS, headers });
  // autocannon's own latency histogram has 1 ms resolution, too coarse when p50 is a few ms;
  // its `response` event carries the exact (hrtime) figure, so we keep those for p50/p99.
  if (onLatency) instance.on('response', (_client, status, _bytes, ms) => status < 300 && onLatency(ms));
  return instance;
}

/** A target's own workerd, migrated, seeded and checked; idle until a round loads it. */
async function startTarget(target) {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    logRequests: false, // otherwise every request is also reported to Node over the loopback
    cf: false, // no fetch of the `request.cf` blob from the internet: fully offline
    log: new Log(LogLevel.WARN),
    workers: target.workers,
  });
  const base = await mf.ready;
  const url = new URL(target.path, base).href;
  if (target.workers.includes(catalog)) await prepareCatalog(mf);
  const items = await checkTarget(url, target);
  return { target, mf, url, items, rounds: [], latencies: [], requests: 0, errors: 0, raw: [] };
}

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// Every target's workerd is started up front, then loaded one at a time (two targets sharing
// 2 cores would measure each other), in ROUNDS rounds that visit the targets in turn: a slow
// minute on the machine then touches every target instead of skewing one, and the median of
// the rounds is reported.
const running = [];
try {
  for (const target of TARGETS) running.push(await startTarget(target));
  for (const run of running) {
    process.stdout.write(`(${run.target.key}) warm-up ${WARMUP_S}s… `);
    await load(run.url, WARMUP_S);
  }
  console.log();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const run of running) {
      const result = await load(run.url, DURATION_S, (ms) => run.latencies.push(ms));
      run.rounds.push(result.requests.total / result.duration);
      run.requests += result.requests.total;
      run.errors += result.errors + result.non2xx;
      run.raw.push(result);
    }
    console.log(`round ${round}/${ROUNDS}: ${running.map((r) => `(${r.target.key}) ${Math.round(r.rounds.at(-1))}`).join('  ')} req/s`);
  }
} finally {
  await Promise.all(running.map((run) => run.mf.dispose()));
}

const runs = running.map((run) => {
  run.latencies.sort((x, y) => x - y);
  return {
    measured: {
      key: run.target.key,
      name: run.target.name,
      path: run.target.path,
      rps: median(run.rounds),
      roundsRps: run.rounds.map((r) => Math.round(r)),
      p50: percentile(run.latencies, 50),
      p99: percentile(run.latencies, 99),
      items: run.items,
      requests: run.requests,
      errors: run.errors,
    },
    raw: run.raw,
  };
});
const results = Object.fromEntries(runs.map(({ measured }) => [measured.key, measured]));

const fixed = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratio = (x, y) => fixed(x / y, 2);
const rows = TARGETS.map(({ key }) => results[key]).map((r) => ({
  target: `(${r.key}) ${r.name}`,
  path: r.path,
  'req/s (median)': fixed(r.rps, 0),
  'rounds req/s': r.roundsRps.join(' / '),
  'p50 ms': fixed(r.p50, 2),
  'p99 ms': fixed(r.p99, 2),
  errors: String(r.errors),
  '÷ (d) ceiling': ratio(r.rps, results.d.rps),
  '÷ (c) catalog': ratio(r.rps, results.c.rps),
}));
const middlewareRatio = ratio(results.b.rps, results.a.rps);

const require = createRequire(join(ROOT, 'package.json'));
const versions = `workerd ${require('workerd/package.json').version}, miniflare ${require('miniflare/package.json').version}`;
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, ${versions}; 1-min load average ${LOAD_AT_START.toFixed(2)} before the run`;

console.log();
console.table(rows);
console.log(`(b) ÷ (a), the gateway's middleware over a bare proxy: ${middlewareRatio}`);
const failed = runs.filter(({ measured }) => measured.errors > 0);
if (failed.length) {
  console.error(`errors or non-2xx answers in: ${failed.map(({ measured }) => `(${measured.key})`).join(', ')}; see ${RAW_OUT}`);
  process.exitCode = 1;
}

const markdownTable = (records) => {
  const headers = Object.keys(records[0]);
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- |').join('')}`, ...records.map((r) => `| ${headers.map((h) => r[h]).join(' | ')} |`)].join('\n');
};

const section = `## Gateway overhead

- Date: ${new Date().toISOString()}
- Machine: ${machine}
- Method: \`npm run bench\` (bench/gateway/run.mjs). Each target has its own Miniflare (workerd
  directly, no \`wrangler dev\` proxy), from its \`wrangler deploy --dry-run\` bundle and the
  bindings of its wrangler.toml; targets are loaded one at a time, in ${ROUNDS} rounds that visit
  them in turn, and req/s is the median of the rounds. The catalog's D1 has every migration and the demo seed applied, so
  a product list answer is one page of ${results.c.items} products. autocannon, on the same machine, sends GETs
  to 127.0.0.1 over ${CONNECTIONS} keep-alive connections: ${WARMUP_S} s warm-up (discarded), then ${DURATION_S} s measured per round.
  req/s = requests ÷ duration; p50/p99 from each response's exact time. LOG_LEVEL=warn in every
  worker; the gateway flushes metrics to its Durable Object every 1000 ms. The catalog accepts only
  calls with a service token: the gateway signs one per call; for (a) and (c) the load generator
  sends one it signed before each load. The catalog route runs its own policies (retry, bulkhead,
  breaker, fallbacks, canary choice) but with its rate limit and the response cache off (both are
  measured in "Traffic"). Load generator and
  workerd share the ${os.cpus().length} cores, so read the ratios, not the absolute capacity.

${markdownTable(rows)}

(b) ÷ (a), the gateway's middleware over a bare proxy: **${middlewareRatio}**

- **÷ (d) ceiling**: the share of the most this machine can serve (workerd answering \`ok\`) that a
  target reaches; it puts every other figure in scale.
- **÷ (c) catalog**: what the hop in front of the catalog costs. (a) shows the price of one service
  binding plus Hono routing; (b) the whole gateway; (d) above 1 is how much the catalog's own work
  (routing, validation, a D1 query, JSON) costs.
- **(b) ÷ (a)**: the gateway's own work (request id, trace context, request logger, security
  headers, body limit, CORS, caller identity, header rewriting, signing the service token, the
  canary choice, deadline, retry, bulkhead, circuit breaker, fallback bookkeeping, metrics) against
  a proxy that does nothing else; 1.00 would mean free, 0.80 that it takes a fifth of the throughput.
`;


writeSection(RESULTS, section);
mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
writeFileSync(RAW_OUT, JSON.stringify(runs.map(({ measured, raw }) => ({ ...measured, autocannon: raw })), null, 2));
console.log(`\nwrote ${RESULTS}`);
