import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';

/** The payments worker's bindings (workers/payments/wrangler.toml). */
export interface PaymentsBindings extends ChaosBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
}
