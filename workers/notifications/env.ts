import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { OutboxBindings, OutboxRelayBindings } from '../../shared/adapters/cloudflare/outbox-relay';
import type { DeliveryBindings } from '../../shared/middleware/delivery-handler';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/**
 * The notifications worker's bindings (workers/notifications/wrangler.toml): its D1, the chaos
 * switch, the outbox relay (QSTASH_URL, QSTASH_TOKEN: publishing the mail requests) and the
 * consumers' keys (QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY, HOOKS_BASE_URL: verifying
 * deliveries), all from .dev.vars locally and `wrangler secret put` in production.
 */
export interface NotificationsBindings extends ServiceMetricsBindings, ChaosBindings, OutboxBindings, OutboxRelayBindings, DeliveryBindings, TelemetryBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  /** The gateway's public service-token keys: calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  BODY_LIMIT_BYTES?: string;
}
