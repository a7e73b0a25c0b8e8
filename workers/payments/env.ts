/** The payments worker's bindings (workers/payments/wrangler.toml). */
export interface PaymentsBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
}
