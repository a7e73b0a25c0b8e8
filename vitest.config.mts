import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { generateSigningKeyPair } from './scripts/dev-keys.mjs';
import { copyGatewayAssets } from './scripts/gateway-assets.mjs';
import { bundledWorkerOptions } from './scripts/worker-bundle.mjs';
import { ROOT, serviceWorkers } from './scripts/workers.mjs';

/**
 * Twelve projects:
 * - `shared`: the pattern library's unit tests, in Node (shared/ is platform-free, so this also
 *   proves it needs nothing from workerd);
 * - `system`: the whole suite in workerd (scripts/local-suite.mjs) with the local QStash, from
 *   Node: orders under chaos, end to end, and `npm run demo` on its own suite;
 * - `browser`: the ops dashboard in Debian's chromium (playwright-core) against the whole suite;
 * - `runtimes`: the gateway on Bun and on Deno (runtimes/), each its own process started from Node;
 * - `scripts`: the dev tooling in scripts/, in Node: the local QStash, the demo's exit codes, the
 *   local Upstash REST bridge in front of a real redis-server, driven by the real @upstash/redis and
 *   @upstash/ratelimit clients;
 * - `catalog`: the catalog worker inside workerd, its D1 migrated from migrations/catalog;
 * - `payments`: the payments worker inside workerd, its D1 migrated from migrations/payments;
 * - `ledger`: the ledger worker inside workerd, its D1 migrated from migrations/ledger;
 * - `notifications`: the notifications worker inside workerd, its D1 migrated from
 *   migrations/notifications, fed QStash deliveries signed as QStash signs them;
 * - `orders`: the orders worker and its OrderSaga inside workerd, with the catalog and payments
 *   workers beside it (real service bindings), every database migrated;
 * - `users`: the users worker inside workerd, its D1 migrated from migrations/users;
 * - `gateway`: the gateway inside workerd with every service worker beside it (the catalog's
 *   canary too), built as `wrangler deploy` builds them and reached through real service
 *   bindings (end to end).
 *
 * Every workerd project runs all its files in ONE runtime (`isolate: false`): booting workerd for
 * each file cost 4–10 s a file, most of CI's time. So a project's files share their databases,
 * Durable Objects and module state, one file after another: a test asserts only on what it made
 * itself (its own ids, the change in a counter, its own client address where a limit counts per
 * address), or first resets the shared thing it reads (a breaker, the alert evaluator).
 */
// The gateway's static assets (workers/gateway/public: uPlot for /_ops, Swagger UI for /docs),
// copied from node_modules, must exist before its config is read.
copyGatewayAssets();
const catalogConfig = join(ROOT, 'workers/catalog/wrangler.toml');
// The catalog's second version (canary): the same code, the same D1, its own chaos object.
const catalogCanaryConfig = join(ROOT, 'workers/catalog-canary/wrangler.toml');
const catalogMigrations = await readD1Migrations(join(ROOT, 'migrations/catalog'));
const catalogDatabaseId = serviceWorkers().find((s) => s.name === 'catalog')?.d1[0]?.database_id;
if (!catalogDatabaseId) throw new Error('workers/catalog/wrangler.toml has no D1 database_id');
const paymentsConfig = join(ROOT, 'workers/payments/wrangler.toml');
const paymentsMigrations = await readD1Migrations(join(ROOT, 'migrations/payments'));
const paymentsDatabaseId = serviceWorkers().find((s) => s.name === 'payments')?.d1[0]?.database_id;
if (!paymentsDatabaseId) throw new Error('workers/payments/wrangler.toml has no D1 database_id');
const ledgerConfig = join(ROOT, 'workers/ledger/wrangler.toml');
const ledgerMigrations = await readD1Migrations(join(ROOT, 'migrations/ledger'));
const ledgerDatabaseId = serviceWorkers().find((s) => s.name === 'ledger')?.d1[0]?.database_id;
if (!ledgerDatabaseId) throw new Error('workers/ledger/wrangler.toml has no D1 database_id');
const notificationsConfig = join(ROOT, 'workers/notifications/wrangler.toml');
const notificationsMigrations = await readD1Migrations(join(ROOT, 'migrations/notifications'));
const ordersConfig = join(ROOT, 'workers/orders/wrangler.toml');
const ordersMigrations = await readD1Migrations(join(ROOT, 'migrations/orders'));
const ordersDatabaseId = serviceWorkers().find((s) => s.name === 'orders')?.d1[0]?.database_id;
if (!ordersDatabaseId) throw new Error('workers/orders/wrangler.toml has no D1 database_id');
const notificationsDatabaseId = serviceWorkers().find((s) => s.name === 'notifications')?.d1[0]?.database_id;
if (!notificationsDatabaseId) throw new Error('workers/notifications/wrangler.toml has no D1 database_id');
/**
 * QStash settings for workers in workerd tests: no broker runs there, so none is configured (the
 * outbox relays then leave every row pending, for tests to read); consumers verify deliveries
 * signed with these keys for this base URL (test/support/qstash-signature.ts).
 */
const noBroker = {
  // Empty, not absent: a developer's .dev.vars (read into bundled workers) must not point here.
  QSTASH_URL: '',
  QSTASH_TOKEN: '',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_test_current_key',
  QSTASH_NEXT_SIGNING_KEY: 'sig_test_next_key',
  HOOKS_BASE_URL: 'http://127.0.0.1:8787',
};
/** The saga settings tests use: short backoff and call deadline, a 5 s saga deadline. */
const fastSagas = { SAGA_DEADLINE_MS: '5000', SAGA_RETRY_BASE_MS: '20', SAGA_RETRY_MAX_MS: '200', SAGA_CALL_TIMEOUT_MS: '2000' };
/** The payments worker's card-fingerprint secret (card-fingerprint.ts), made for this run only. */
const cardFingerprintKey = { CARD_FINGERPRINT_KEY: `test-${crypto.randomUUID()}` };
const usersConfig = join(ROOT, 'workers/users/wrangler.toml');
const usersMigrations = await readD1Migrations(join(ROOT, 'migrations/users'));
const usersDatabaseId = serviceWorkers().find((s) => s.name === 'users')?.d1[0]?.database_id;
if (!usersDatabaseId) throw new Error('workers/users/wrangler.toml has no D1 database_id');

// A service-token key pair made for this run only (never written anywhere): the gateway signs
// with the private half, every service trusts the public half, and service tests mint tokens
// with TEST_SERVICE_TOKEN_PRIVATE_JWK as the gateway would.
// The orders service signs its own (issuer stratus-orders) for the saga's calls; services trust
// each issuer's key for that issuer only.
const serviceTokenKeys = await generateSigningKeyPair('test-service-token');
const ordersServiceTokenKeys = await generateSigningKeyPair('test-orders-service-token');
const serviceTrust = {
  SERVICE_TOKEN_PUBLIC_JWKS: JSON.stringify({ 'stratus-gateway': [serviceTokenKeys.publicJwk], 'stratus-orders': [ordersServiceTokenKeys.publicJwk] }),
};
/**
 * Every service flushes its RED metrics as soon as a request ends, not after its usual 1 s batch
 * (shared/adapters/cloudflare/service-metrics.ts): that flush runs in waitUntil, and a test in
 * workerd waits for a request's waitUntil, so a 1 s batch made every request in a test take 1 s.
 */
const flushMetricsAtOnce = { METRICS_FLUSH_INTERVAL_MS: '0' };
const serviceTestVars = {
  ...serviceTrust,
  ...flushMetricsAtOnce,
  // No span or log export, whatever a developer's .dev.vars says (`npm run dev` sets it there).
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  TEST_SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(serviceTokenKeys.privateJwk),
  TEST_ORDERS_SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(ordersServiceTokenKeys.privateJwk),
};

// The users worker's access-token keys for this run only (never written anywhere): the signing
// key, and one earlier public key so the JWKS shows a rotation. Every users var is pinned, so a
// developer's workers/users/.dev.vars never changes a result. The demo seed goes in as text so a
// test can log in with it.
const accessTokenKeys = await generateSigningKeyPair('test-access-token');
const previousAccessTokenKeys = await generateSigningKeyPair('test-access-token-previous');
const usersTestVars = {
  ACCESS_TOKEN_PRIVATE_JWK: JSON.stringify(accessTokenKeys.privateJwk),
  ACCESS_TOKEN_KID: accessTokenKeys.privateJwk.kid,
  ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS: JSON.stringify([previousAccessTokenKeys.publicJwk]),
  ACCESS_TOKEN_ISSUER: 'stratus-users',
  ACCESS_TOKEN_AUDIENCE: 'stratus',
  TEST_USERS_SEED_SQL: readFileSync(join(ROOT, 'scripts/seed/users.sql'), 'utf8'),
};

// Every var .dev.vars.example sets, pinned, so a developer's own .dev.vars never changes a result.
const testVars = {
  SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(serviceTokenKeys.privateJwk),
  ADMIN_TOKEN: 'test-admin-token',
  ALLOW_CHAOS: 'false',
  CORS_ORIGINS: 'https://app.example',
  LOG_LEVEL: 'warn',
  FEATURE_FLAGS: '[]',
  // Flush metrics and breaker outcomes as soon as a request ends, so tests read totals and
  // breaker state without waiting on a timer.
  METRICS_FLUSH_INTERVAL_MS: '0',
  BREAKER_REPORT_INTERVAL_MS: '0',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_QUERY_URL: '',
  // Alerts time-scaled: evaluated every 200 ms, the catalog's breaker alert fires after 0.3 s open
  // (each evaluation reads every service's metrics: 7 calls, so not faster, in a runtime every
  // file of the project shares; test/e2e/calm-start.ts stops it between files);
  // notifications go to a receiver the alert test stands in for, signed with this run's secret.
  ALERT_RULES: JSON.stringify([
    { name: 'catalog-breaker', kind: 'breaker_open', upstream: 'catalog', for: 0.3 },
    { name: 'synthetic-check', kind: 'synthetic_failed', windowSeconds: 60 },
  ]),
  ALERT_EVAL_INTERVAL_MS: '200',
  ALERT_WEBHOOK_URL: 'https://alerts.test/hook',
  ALERT_WEBHOOK_SECRET: `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`,
};

/**
 * The gateway inside workerd with every service worker beside it (the catalog's canary too), built
 * as `wrangler deploy` builds them and reached through real service bindings.
 */
const gatewayWorkers = () =>
  cloudflareTest({
    wrangler: { configPath: join(ROOT, 'wrangler.toml') },
    miniflare: {
      bindings: {
        ...testVars,
        ...serviceTestVars,
        // So gateway tests can mint user access tokens as the users service would.
        TEST_ACCESS_TOKEN_PRIVATE_JWK: JSON.stringify(accessTokenKeys.privateJwk),
        TEST_CATALOG_MIGRATIONS: catalogMigrations,
        TEST_PAYMENTS_MIGRATIONS: paymentsMigrations,
        TEST_USERS_MIGRATIONS: usersMigrations,
        TEST_ORDERS_MIGRATIONS: ordersMigrations,
        TEST_NOTIFICATIONS_MIGRATIONS: notificationsMigrations,
        TEST_LEDGER_MIGRATIONS: ledgerMigrations,
        TEST_USERS_SEED_SQL: usersTestVars.TEST_USERS_SEED_SQL,
        ...noBroker,
      },
      // The gateway never binds the services' databases; the tests do, to migrate and
      // seed them (same ids, so the same databases the service workers open).
      d1Databases: {
        TEST_CATALOG_DB: catalogDatabaseId,
        TEST_PAYMENTS_DB: paymentsDatabaseId,
        TEST_USERS_DB: usersDatabaseId,
        TEST_ORDERS_DB: ordersDatabaseId,
        TEST_NOTIFICATIONS_DB: notificationsDatabaseId,
        TEST_LEDGER_DB: ledgerDatabaseId,
      },
      workers: [
        bundledWorkerOptions(catalogConfig, 'catalog', { bindings: { LOG_LEVEL: 'warn', VIEW_FLUSH_INTERVAL_MS: '0', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker } }),
        bundledWorkerOptions(catalogCanaryConfig, 'catalog-canary', { bindings: { LOG_LEVEL: 'warn', VIEW_FLUSH_INTERVAL_MS: '0', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker } }),
        bundledWorkerOptions(paymentsConfig, 'payments', { bindings: { LOG_LEVEL: 'warn', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker, ...cardFingerprintKey } }),
        bundledWorkerOptions(usersConfig, 'users', { bindings: { LOG_LEVEL: 'warn', ...serviceTrust, ...flushMetricsAtOnce, ...usersTestVars } }),
        bundledWorkerOptions(ordersConfig, 'orders', {
          bindings: { LOG_LEVEL: 'warn', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker, ...fastSagas, SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(ordersServiceTokenKeys.privateJwk) },
        }),
        bundledWorkerOptions(notificationsConfig, 'notifications', { bindings: { LOG_LEVEL: 'warn', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker } }),
        bundledWorkerOptions(ledgerConfig, 'ledger', { bindings: { LOG_LEVEL: 'warn', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker } }),
      ],
    },
  });

export default defineConfig({
  test: {
    // Two test files at once. Vitest's default on 2 cores is one, and much of a file's time is
    // waiting (workerd starting, sagas and deliveries in flight), so a second file fills it and the
    // whole run stays within CI's 15 minutes. The system project still runs its files one at a time.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'shared',
          include: ['test/shared/**/*.test.ts'],
          environment: 'node',
          // Plain unit tests with no process-wide state: one process imports them all instead of
          // a fresh one per file.
          isolate: false,
        },
      },
      {
        test: {
          // The whole suite in workerd (scripts/local-suite.mjs) with the local QStash: one run
          // of 200 orders under chaos, checked from every service's own data; and `npm run demo`
          // on its own suite.
          name: 'system',
          include: ['test/system/**/*.test.ts'],
          environment: 'node',
          // One file at a time: each starts the whole suite (every worker in workerd, the local
          // QStash), and two at once on a small CI machine starve each other's deadlines.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          // The ops dashboard (GET /_ops) in Debian's chromium, driven by playwright-core, against
          // the whole suite in workerd: chaos on and off from the page, the breaker seen to open
          // and close, an order's saga, live numbers, canary weights, a chaos panel refused (403);
          // and the page's traffic and breaker-strip maths in Node. The long browser test sets its
          // own time limit. A screenshot lands in test/artifacts/.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          // The gateway on Bun and on Deno (runtimes/), each started as its own process from Node
          // in front of stand-in services: routing, rate limits and the circuit breaker.
          name: 'runtimes',
          include: ['test/runtimes/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'scripts',
          include: ['test/scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: catalogConfig },
            miniflare: {
              bindings: {
                LOG_LEVEL: 'warn',
                VIEW_FLUSH_INTERVAL_MS: '0',
                TEST_MIGRATIONS: catalogMigrations,
                ...serviceTestVars,
                // The order-events consumer verifies deliveries signed with these keys for this
                // base URL (test/support/qstash-signature.ts).
                QSTASH_CURRENT_SIGNING_KEY: 'sig_test_current_key',
                QSTASH_NEXT_SIGNING_KEY: 'sig_test_next_key',
                HOOKS_BASE_URL: 'http://127.0.0.1:8787',
              },
            },
          }),
        ],
        test: {
          name: 'catalog',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/catalog/**/*.test.ts'],
          setupFiles: ['test/workers/catalog/apply-migrations.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: paymentsConfig },
            miniflare: {
              bindings: {
                LOG_LEVEL: 'warn',
                TEST_MIGRATIONS: paymentsMigrations,
                ...serviceTestVars,
                ...cardFingerprintKey,
                // No QStash: the outbox relay leaves every row pending (it logs that once), so the
                // tests read the rows each write committed, whatever a developer's .dev.vars says.
                QSTASH_URL: '',
                QSTASH_TOKEN: '',
              },
            },
          }),
        ],
        test: {
          name: 'payments',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/payments/**/*.test.ts'],
          setupFiles: ['test/workers/payments/apply-migrations.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: ledgerConfig },
            miniflare: {
              bindings: {
                LOG_LEVEL: 'warn',
                TEST_MIGRATIONS: ledgerMigrations,
                ...serviceTestVars,
                // No QStash: the outbox relay leaves every row pending, so the tests read the rows
                // each append committed. A small snapshot interval, so short streams cross several.
                QSTASH_URL: '',
                QSTASH_TOKEN: '',
                LEDGER_SNAPSHOT_EVERY: '5',
                // One page (200 events) per invocation: a rebuild past 200 events goes on from
                // its object's alarm, as 100,000 would on Cloudflare (rebuild-object.ts).
                LEDGER_REBUILD_PAGES_PER_SLICE: '1',
              },
            },
          }),
        ],
        test: {
          name: 'ledger',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/ledger/**/*.test.ts'],
          setupFiles: ['test/workers/ledger/apply-migrations.ts'],
          testTimeout: 30_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: notificationsConfig },
            miniflare: {
              bindings: {
                LOG_LEVEL: 'warn',
                TEST_MIGRATIONS: notificationsMigrations,
                ...serviceTestVars,
                // Deliveries in these tests are signed with these keys, for this base URL
                // (test/support/qstash-signature.ts).
                QSTASH_CURRENT_SIGNING_KEY: 'sig_test_current_key',
                QSTASH_NEXT_SIGNING_KEY: 'sig_test_next_key',
                HOOKS_BASE_URL: 'http://127.0.0.1:8787',
                // The outbox relay publishes to the recording stand-in below, whatever this says.
                QSTASH_URL: 'http://127.0.0.1:8080',
                QSTASH_TOKEN: 'test-qstash-token',
                // A failed publish is retried in 10 minutes: no alarm fires during the run.
                OUTBOX_RETRY_BASE_MS: '600000',
                // Chaos set through /_chaos is seen at once (no per-isolate cache).
                CHAOS_REFRESH_MS: '0',
              },
              // Every fetch the worker (and its OutboxRelay) makes goes to a QStash stand-in that
              // answers as QStash does and remembers what was published, for the tests to read.
              outboundService: 'recording-qstash',
              serviceBindings: { RECORDING_QSTASH: 'recording-qstash' },
              workers: [{ name: 'recording-qstash', modules: true, scriptPath: join(ROOT, 'test/support/recording-qstash-worker.mjs') }],
            },
          }),
        ],
        test: {
          name: 'notifications',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/notifications/**/*.test.ts'],
          setupFiles: ['test/workers/notifications/apply-migrations.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: ordersConfig },
            miniflare: {
              bindings: {
                LOG_LEVEL: 'warn',
                TEST_MIGRATIONS: ordersMigrations,
                TEST_CATALOG_MIGRATIONS: catalogMigrations,
                TEST_PAYMENTS_MIGRATIONS: paymentsMigrations,
                ...serviceTestVars,
                // The saga signs its calls to catalog and payments with this run's orders key.
                SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(ordersServiceTokenKeys.privateJwk),
                ...fastSagas,
                CHAOS_REFRESH_MS: '0',
                ...noBroker,
                // A live socket told nothing for 1.5 s closes as idle (order-live.test.ts).
                LIVE_IDLE_TIMEOUT_MS: '1500',
              },
              // The participants' databases, bound so tests can migrate, seed and read them.
              d1Databases: { TEST_CATALOG_DB: catalogDatabaseId, TEST_PAYMENTS_DB: paymentsDatabaseId },
              workers: [
                bundledWorkerOptions(catalogConfig, 'orders-catalog', { bindings: { LOG_LEVEL: 'warn', VIEW_FLUSH_INTERVAL_MS: '0', CHAOS_REFRESH_MS: '0', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker } }),
                bundledWorkerOptions(paymentsConfig, 'orders-payments', { bindings: { LOG_LEVEL: 'warn', CHAOS_REFRESH_MS: '0', ...serviceTrust, ...flushMetricsAtOnce, ...noBroker, ...cardFingerprintKey } }),
              ],
            },
          }),
        ],
        test: {
          name: 'orders',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/orders/**/*.test.ts'],
          // Sagas run on alarms with real (short) backoff: a test waits for one to settle.
          testTimeout: 30_000,
          setupFiles: ['test/workers/orders/apply-migrations.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: usersConfig },
            miniflare: { bindings: { LOG_LEVEL: 'warn', TEST_MIGRATIONS: usersMigrations, ...serviceTestVars, ...usersTestVars } },
          }),
        ],
        test: {
          name: 'users',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/users/**/*.test.ts'],
          setupFiles: ['test/workers/users/apply-migrations.ts'],
        },
      },
      {
        plugins: [gatewayWorkers()],
        test: {
          name: 'gateway',
          isolate: false, // one runtime for every file (above)
          include: ['test/workers/gateway/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          setupFiles: ['test/e2e/apply-migrations.ts', 'test/e2e/calm-start.ts'],
          // Loopback HTTP origins (and the legacy monolith) for the origin-pool tests, started in Node.
          globalSetup: ['test/workers/gateway/origins.global-setup.ts'],
        },
      },
    ],
  },
});
