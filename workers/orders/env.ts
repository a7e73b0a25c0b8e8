import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { OutboxRelay } from '../../shared/adapters/cloudflare/outbox-relay';
import type { OrderLive } from './order-live';
import type { OrderSaga } from './order-saga';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/** The orders worker's bindings (workers/orders/wrangler.toml; secrets in .dev.vars locally). */
export interface OrdersBindings extends ServiceMetricsBindings, ChaosBindings, TelemetryBindings {
  DB: D1Database;
  /** The saga's participants. */
  CATALOG: Fetcher;
  PAYMENTS: Fetcher;
  ORDER_SAGA: DurableObjectNamespace<OrderSaga>;
  /** One per order: its live watchers' sockets (order-live.ts). */
  ORDER_LIVE: DurableObjectNamespace<OrderLive>;
  OUTBOX: DurableObjectNamespace<OutboxRelay>;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
  /** The keys this service trusts for calls into it (the gateway's). */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  /** Secret: this service's own signing key (issuer stratus-orders), for the saga's calls. */
  SERVICE_TOKEN_PRIVATE_JWK?: string;
  QSTASH_URL?: string;
  QSTASH_TOKEN?: string;
  QSTASH_CURRENT_SIGNING_KEY?: string;
  QSTASH_NEXT_SIGNING_KEY?: string;
  HOOKS_BASE_URL?: string;
  /** Saga tuning (order-saga-config.ts); defaults in parentheses there. */
  SAGA_DEADLINE_MS?: string;
  SAGA_RETRY_BASE_MS?: string;
  SAGA_RETRY_MAX_MS?: string;
  SAGA_CALL_TIMEOUT_MS?: string;
  /** Live sockets' limits (live-config.ts). */
  LIVE_MAX_CONNECTIONS_PER_USER?: string;
  LIVE_IDLE_TIMEOUT_MS?: string;
  LIVE_MAX_MESSAGE_BYTES?: string;
  LIVE_TICKET_TTL_MS?: string;
  /**
   * Test only: the percentage of sagas (chosen by order id, so deterministic) whose object is
   * restarted once in the middle of the charge step, after the call and before its outcome is
   * stored: proof that a resumed saga repeats no side effect. Never set in production.
   */
  SAGA_CRASH_PERCENT?: string;
}
