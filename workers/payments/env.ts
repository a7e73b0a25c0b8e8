import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';

/** The payments worker's bindings (workers/payments/wrangler.toml). */
export interface PaymentsBindings extends ChaosBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  /** The gateway's public service-token keys (a JSON JWK array): calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  BODY_LIMIT_BYTES?: string;
}
