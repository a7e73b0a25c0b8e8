import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { DeliveryBindings } from '../../shared/middleware/delivery-handler';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/**
 * The catalog worker's bindings (workers/catalog/wrangler.toml, and workers/catalog-canary's for
 * the same code). The order-events consumer (POST /hooks/catalog) verifies deliveries with
 * QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY and HOOKS_BASE_URL (DeliveryBindings): from
 * .dev.vars locally and `wrangler secret put` in production.
 */
export interface CatalogBindings extends ServiceMetricsBindings, ChaosBindings, DeliveryBindings, TelemetryBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  /** The gateway's public service-token keys (a JSON JWK array): calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  BODY_LIMIT_BYTES?: string;
  /** How often an isolate writes the product views it counted (ms; default 1000). */
  VIEW_FLUSH_INTERVAL_MS?: string;
  /**
   * Which version of the catalog this worker is (`v1`, or `v2` for workers/catalog-canary): sent
   * back on every response as `x-service-version`. Default `v1`.
   */
  SERVICE_VERSION?: string;
}
