import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { OutboxBindings, OutboxRelayBindings } from '../../shared/adapters/cloudflare/outbox-relay';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/**
 * The payments worker's bindings (workers/payments/wrangler.toml): its D1, the chaos switch, and
 * the outbox relay that publishes payment events (QSTASH_URL, QSTASH_TOKEN: from .dev.vars
 * locally, `wrangler secret put` in production).
 */
export interface PaymentsBindings extends ServiceMetricsBindings, ChaosBindings, OutboxBindings, OutboxRelayBindings, TelemetryBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  /** The trusted service-token keys (JSON; per issuer): calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  BODY_LIMIT_BYTES?: string;
  /**
   * Secret: the key of card fingerprints (HMAC-SHA256; card-fingerprint.ts). Without it no card
   * is tokenized (503). Changing it gives every card a new fingerprint; tokens keep working.
   */
  CARD_FINGERPRINT_KEY?: string;
}
