import { drizzle } from 'drizzle-orm/d1';
import { outboxHeartbeat } from '../../shared/adapters/cloudflare/outbox-relay';
import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { outboxOpsRoutes } from '../../shared/adapters/cloudflare/outbox-ops-routes';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import { createLogger, isLogLevel } from '../../shared/observability/logger';
import type { LedgerBindings } from './env';
import { ledgerRoutes } from './ledger-routes';
import { pruneCommandKeys } from './command-keys';
import { ledgerConfig } from './ledger-config';
import { PAGES_PER_CRON, projectAfterCommit } from './projections/projection-runner';
import { readRoutes } from './read-routes';

/**
 * The ledger service: bank-style accounts, event-sourced. Each account is a stream of events in
 * the ledger's own D1 (shared/event-store), rebuilt into its state (account.ts) for every
 * command and read, from the latest snapshot plus the tail; appends carry the expected version,
 * so racing writers are refused by the database and retried (or 409 with If-Match). Every append
 * commits its events' outbox rows in the same batch. Reached only through the gateway's service
 * binding, which maps `/api/ledger/*` to `/ledger/*`.
 */
const app = createServiceApp<LedgerBindings>({ service: 'ledger', onComplete: recordServiceRequestOf, verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
}));

// The read side first: its rebuild route is for operators, not behind ledgerRoutes' signed-in check.
// The outbox's counts and dead rows for operators (the gateway's /_ops/outbox).
// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/_outbox', outboxOpsRoutes);
app.route('/ledger', readRoutes);
app.route('/ledger', ledgerRoutes);

/**
 * HTTP through the app. The cron trigger keeps the outbox moving (outboxHeartbeat), catches the
 * projections up (in case the pass after a commit was lost with its isolate) and prunes
 * idempotency keys past their retention.
 */
export default {
  fetch: app.fetch,
  scheduled(controller: ScheduledController, env: LedgerBindings, ctx: ExecutionContext) {
    const log = createLogger({ service: 'ledger' }, { level: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' });
    outboxHeartbeat(controller, env, ctx);
    projectAfterCommit(env, ctx, log, PAGES_PER_CRON);
    // Idempotency keys past their retention: a batch per tick (command-keys.ts).
    const before = controller.scheduledTime - ledgerConfig(env).LEDGER_IDEMPOTENCY_RETENTION_MS;
    ctx.waitUntil(
      pruneCommandKeys(drizzle(env.DB), before)
        .then((pruned) => pruned > 0 && log.info('idempotency keys pruned', { pruned }))
        .catch((error: unknown) => log.error('idempotency key prune failed; the next tick retries', { error })),
    );
  },
};

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
export { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
export { ProjectionRebuild } from './projections/rebuild-object';
