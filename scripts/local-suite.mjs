// The whole suite in one Miniflare (workerd directly, no `wrangler dev` proxy), for the system
// tests and the order benchmark: every worker built as `wrangler deploy` builds it, every D1
// migrated (and the catalog seeded by the caller), the local QStash beside it with the topology
// set up, and keys made for this run only. Nothing is read from a developer's .dev.vars: every
// var those files could set is pinned here.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK } from 'jose';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { signAccessToken } from './access-token.mjs';
import { generateSigningKeyPair } from './dev-keys.mjs';
import { startOtelReceiver } from './otel-receiver.mjs';
import { legacyOriginPools, startLegacyMonolith } from './legacy-monolith.mjs';
import { useFreshConnections } from './fresh-connections.mjs';
import { setupQStash } from './qstash-setup.mjs';
import { seededRandom, startQStashServer } from './qstash-server.mjs';
import { suiteDatabase, suiteSqlWorker } from './suite-sql.mjs';
import { bundledWorkerOptions } from './worker-bundle.mjs';
import { gatewayConfigPath, ROOT, serviceWorkers } from './workers.mjs';

export const ADMIN_TOKEN = 'suite-admin-token';
const SIGNING_KEYS = { QSTASH_CURRENT_SIGNING_KEY: 'sig_suite_current', QSTASH_NEXT_SIGNING_KEY: 'sig_suite_next' };
const SIGNING_KEYS_AS_OPTIONS = { currentSigningKey: SIGNING_KEYS.QSTASH_CURRENT_SIGNING_KEY, nextSigningKey: SIGNING_KEYS.QSTASH_NEXT_SIGNING_KEY };

/**
 * The origin QStash deliveries are published to and signed for (HOOKS_BASE_URL). The gateway's
 * real port is known only once workerd has bound port 0, after every worker's vars are fixed, so
 * the vars name this origin and the local QStash sends its deliveries to the real one
 * (routeOrigin). Probing for a free port and binding it later raced other processes for it
 * (ERR_ADDRESS_IN_USE in CI); `.invalid` never resolves, so nothing else can answer for it.
 */
const HOOKS_ORIGIN = 'http://gateway.local-suite.invalid';

/** The SQL statements of every migration of a service, in order (drizzle-kit's breakpoints split them). */
function migrationStatements(service) {
  const dir = join(ROOT, 'migrations', service);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('--> statement-breakpoint'))
    .map((statement) => statement.trim())
    .filter(Boolean);
}

/** Counts workerd's output lines instead of printing them (a chaos run logs thousands). */
function drainLogs(counter) {
  return (stdout, stderr) => {
    for (const stream of [stdout, stderr]) {
      stream.on('data', (chunk) => {
        counter.lines += chunk.toString('utf8').split('\n').length - 1;
        if (counter.keep) counter.text += chunk.toString('utf8');
      });
    }
  };
}

/**
 * Starts the suite. `vars` are merged into every worker's bindings (e.g. saga tuning for orders);
 * `qstash` options go to the local QStash (retryDelayScale, duplicateRate, seed); `buildPrefix`
 * names the bundles' build folders (`.wrangler/build/<prefix>-<worker>`), so suites started at
 * once by different callers never write over each other's bundles. Resolves with
 * the gateway's base URL, helpers to sign access tokens and call as the operator, the QStash
 * server, each service's D1 (`db(service)`), and `dispose()`.
 */
export async function startLocalSuite({ vars = {}, workerVars = {}, qstash: qstashOptions = {}, keepLogs = false, buildPrefix = 'suite' } = {}) {
  // Every fetch this process makes to the suite (and the local QStash's deliveries) on a fresh
  // connection: workerd drops a request sent on a connection it kept alive while it was busy
  // (fresh-connections.mjs says why).
  useFreshConnections();
  const { seed = 1, ...serverOptions } = qstashOptions;
  const qstash = await startQStashServer({ ...SIGNING_KEYS_AS_OPTIONS, random: seededRandom(seed), ...serverOptions });
  // Every worker exports its spans and log lines here (OTLP/HTTP JSON), and the gateway's
  // /_ops/traces and /_ops/logs read them back, as under `npm run dev`.
  const otel = await startOtelReceiver();

  // The legacy monolith behind the gateway's strangler-fig route, on a free port.
  const legacy = await startLegacyMonolith({ port: 0 });

  const gatewayKeys = await generateSigningKeyPair('suite-gateway');
  const ordersKeys = await generateSigningKeyPair('suite-orders');
  const accessKeys = await generateSigningKeyPair('suite-access');
  const trust = JSON.stringify({ 'stratus-gateway': [gatewayKeys.publicJwk], 'stratus-orders': [ordersKeys.publicJwk] });
  const common = {
    LOG_LEVEL: 'error',
    SERVICE_TOKEN_PUBLIC_JWKS: trust,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    ...SIGNING_KEYS,
    HOOKS_BASE_URL: HOOKS_ORIGIN,
    OTEL_EXPORTER_OTLP_ENDPOINT: otel.url,
    ...vars,
  };
  const perWorker = {
    gateway: {
      ADMIN_TOKEN,
      ALLOW_CHAOS: 'true',
      CORS_ORIGINS: '',
      FEATURE_FLAGS: '[]',
      SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(gatewayKeys.privateJwk),
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
      OTEL_QUERY_URL: otel.url,
      ORIGIN_POOLS: legacyOriginPools(legacy.url),
    },
    orders: { SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(ordersKeys.privateJwk) },
    payments: { CARD_FINGERPRINT_KEY: `suite-${randomUUID()}` },
    users: {
      ACCESS_TOKEN_PRIVATE_JWK: JSON.stringify(accessKeys.privateJwk),
      ACCESS_TOKEN_KID: accessKeys.privateJwk.kid,
      ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS: '[]',
      ACCESS_TOKEN_ISSUER: 'stratus-users',
      ACCESS_TOKEN_AUDIENCE: 'stratus',
    },
  };

  const services = serviceWorkers();
  const workers = [
    bundledWorkerOptions(gatewayConfigPath(), `${buildPrefix}-gateway`, { bindings: { ...common, ...perWorker.gateway, ...workerVars.gateway } }),
    ...services.map((service) =>
      bundledWorkerOptions(service.configPath, `${buildPrefix}-${service.name}`, {
        bindings: { ...common, OTEL_SERVICE_NAME: service.name, ...(perWorker[service.name] ?? {}), ...(workerVars[service.name] ?? {}) },
      }),
    ),
  ];
  // Every database once (the catalog's canary shares the catalog's), with the id its worker binds.
  const databaseIds = new Map();
  for (const [index, service] of services.entries()) {
    for (const d1 of service.d1) if (!databaseIds.has(d1.database_name)) databaseIds.set(d1.database_name, workers[index + 1].d1Databases?.[d1.binding]);
  }
  workers.push(suiteSqlWorker(databaseIds));
  const logs = { lines: 0, text: '', keep: keepLogs };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0, // workerd binds a free port and keeps it: mf.ready says which
    logRequests: false,
    cf: false, // no fetch of the `request.cf` blob from the internet: fully offline
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: drainLogs(logs),
    workers,
  });
  try {
    const gatewayUrl = new URL(await mf.ready).origin;
    qstash.routeOrigin(HOOKS_ORIGIN, gatewayUrl);
    // Migrate every database once (the catalog's canary shares the catalog's), through the suite's
    // SQL worker (suite-sql.mjs says why not Miniflare's D1 proxy).
    const sqlWorker = () => mf.getWorker('suite-sql');
    const databases = new Map();
    for (const service of services) {
      for (const d1 of service.d1) {
        if (databases.has(d1.database_name)) continue;
        const db = suiteDatabase(sqlWorker, d1.database_name);
        await db.batch(migrationStatements(service.name).map((sql) => db.prepare(sql)));
        databases.set(d1.database_name, db);
      }
    }
    await setupQStash({ url: qstash.url, token: qstash.token, hooksBaseUrl: HOOKS_ORIGIN, log: () => {} });

    const accessKey = await importJWK(accessKeys.privateJwk, 'ES256');
    return {
      url: (path) => new URL(path, gatewayUrl).href,
      gatewayUrl,
      qstash,
      /** The OTLP receiver every worker exports to (scripts/otel-receiver.mjs). */
      otel,
      legacy,
      logs,
      mf,
      /** A service's D1 as its worker sees it: `db('orders')`. */
      db: (service) => databases.get(`stratus-${service}`),
      /** An access token as the users service issues it, for any user. */
      bearer: async (userId, roles = ['customer']) =>
        `Bearer ${await signAccessToken(accessKey, accessKeys.privateJwk.kid, userId, roles)}`,
      operator: { authorization: `Bearer ${ADMIN_TOKEN}` },
      dispose: async () => {
        await Promise.allSettled([mf.dispose(), qstash.close(), otel.close(), legacy.close()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([mf.dispose(), qstash.close(), otel.close(), legacy.close()]);
    throw error;
  }
}

