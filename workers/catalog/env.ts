import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';

/** The catalog worker's bindings (workers/catalog/wrangler.toml). */
export interface CatalogBindings extends ChaosBindings {
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
