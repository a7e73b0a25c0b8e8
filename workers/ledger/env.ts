import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { OutboxBindings, OutboxRelayBindings } from '../../shared/adapters/cloudflare/outbox-relay';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/**
 * The ledger worker's bindings (workers/ledger/wrangler.toml): its D1 (the event store, the
 * snapshots and the outbox), the chaos switch, and the outbox relay that publishes ledger events
 * (QSTASH_URL, QSTASH_TOKEN: from .dev.vars locally, `wrangler secret put` in production).
 */
export interface LedgerBindings extends ServiceMetricsBindings, ChaosBindings, OutboxBindings, OutboxRelayBindings, TelemetryBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  /** Snapshot an account every this many events (ledger-config.ts; default 50, 0 = never). */
  LEDGER_SNAPSHOT_EVERY?: string;
  /** Pages a projection rebuild runs per invocation (ledger-config.ts; default 50). */
  LEDGER_REBUILD_PAGES_PER_SLICE?: string;
  /** How long command idempotency keys are kept (ledger-config.ts; default 24 h). */
  LEDGER_IDEMPOTENCY_RETENTION_MS?: string;
  /** One ProjectionRebuild object per projection name (projections/rebuild-object.ts). */
  REBUILDS: DurableObjectNamespace<import('./projections/rebuild-object').ProjectionRebuild>;
  /** The trusted service-token keys (JSON; per issuer): calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  BODY_LIMIT_BYTES?: string;
}
